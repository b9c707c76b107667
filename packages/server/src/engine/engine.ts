/**
 * The engine seam: everything that must be shared between nodes. The memory engine is the default
 * and the reference; a Redis engine implements the same interfaces and passes the same test suite.
 * The engine never imports sessions or transports: it stores, orders and fans out channel events,
 * and the node turns them into frames.
 */
import type { Message, PresenceMessage } from '@encke/protocol';
import type { AppRecord, CreateAppResult } from '../apps/record.js';

/** A channel within an app: `<appId>:<channelName>` (app ids never contain `:`). */
export type ChannelKey = string;

export function channelKey(appId: string, name: string): ChannelKey {
  return `${appId}:${name}`;
}

export function splitChannelKey(key: ChannelKey): { appId: string; name: string } {
  const i = key.indexOf(':');
  return { appId: key.slice(0, i), name: key.slice(i + 1) };
}

export type EventKind = 'message' | 'presence';

/** What a publisher hands the engine: one published ProtocolMessage's worth of items. */
export interface ChannelEventInput {
  kind: EventKind;
  /** `<connectionId>:<msgSerial>` of the publishing ProtocolMessage, when there is one. */
  id?: string;
  connectionId?: string;
  timestamp: number;
  messages?: Message[];
  presence?: PresenceMessage[];
}

/** An event in a channel's log: the input plus its place in the channel's order. */
export interface ChannelEvent extends ChannelEventInput {
  /** Position in the channel's log, strictly increasing within an epoch. */
  seq: number;
  /** `formatSerial(epoch, seq)`: the channelSerial clients resume from. */
  serial: string;
}

/** The end of a channel's log: where a new attachment starts. */
export interface ChannelHead {
  epoch: string;
  seq: number;
  serial: string;
}

export interface ReplayResult {
  events: ChannelEvent[];
  /** False when the log no longer reaches back to the requested position (or it is from another epoch). */
  complete: boolean;
}

export interface PublishOutcome {
  /** The appended event; null when every message was a duplicate of an earlier idempotent publish. */
  event: ChannelEvent | null;
  /** One serial per input message, in order (the original serial for duplicates). */
  serials: string[];
}

/** How long a channel's log keeps events: the engine default, or longer for persisted namespaces. */
export interface LogRetention {
  /** Age (ms) after which events leave the log. */
  maxAge: number;
  /** Events kept. */
  maxCount: number;
}

export interface PublishOptions {
  /** Messages whose `id` was published on this channel within this many ms are dropped as duplicates. */
  idempotencyWindow?: number;
  /**
   * The publishing connection and the msgSerial of this publish: a shared engine records it with
   * the append (one atomic step), so that a connection resumed on another node after its node died
   * still knows which msgSerials were published (exactly once across node failure).
   */
  connection?: { id: string; msgSerial: number };
  /** The channel's log retention from now on; when absent the channel keeps its current one (the engine default at first). */
  retention?: LogRetention;
}

export type HistoryDirection = 'backwards' | 'forwards';

/** One item of the log: item `index` of the event at `seq`. */
export interface LogPosition {
  seq: number;
  index: number;
}

/**
 * A page of history. Positions (`after`, `untilSeq`) belong to `epoch`; paging by position never
 * skips or repeats an item however many events arrive meanwhile.
 */
export interface HistoryQuery {
  kind: EventKind;
  direction: HistoryDirection;
  /** Most items on the page. */
  limit: number;
  /** Only events stamped at or after `start` / at or before `end` (ms). */
  start?: number;
  end?: number;
  /** The epoch of `after` and `untilSeq`; a page for another epoch is `stale` and empty. */
  epoch?: string;
  /** Continue past this item: items older than it (backwards) or newer (forwards). */
  after?: LogPosition;
  /** Only events with seq at or below this (the head when paging started, or an attach point). */
  untilSeq?: number;
}

export interface HistoryEntry {
  event: ChannelEvent;
  /** Index of the item in `event.messages` or `event.presence`. */
  index: number;
}

export interface HistoryPage {
  /** The channel's head when read; null when the channel has no state. */
  head: ChannelHead | null;
  /** Items in query order. */
  entries: HistoryEntry[];
  /** More items match past the last entry. */
  more: boolean;
  /** `epoch` was given and is not the channel's current epoch. */
  stale: boolean;
}

/** Connections attached to a channel, by what their channel modes permit (Ably occupancy metrics). */
export interface OccupancyMetrics {
  connections: number;
  publishers: number;
  subscribers: number;
  presenceConnections: number;
  presenceSubscribers: number;
  objectPublishers: number;
  objectSubscribers: number;
}

export interface ChannelListQuery {
  /** Only names starting with this. */
  prefix?: string;
  /** Only names sorting after this (the last name of the previous page). */
  after?: string;
  limit: number;
}

export interface ChannelList {
  /** Active channel names, sorted. */
  names: string[];
  more: boolean;
}

export interface PresenceOptions {
  /** Members a channel may hold; an enter past it is refused with 91003. */
  maxMembers: number;
  /** As PublishOptions.connection. */
  connection?: { id: string; msgSerial: number };
}

/** What an ATTACH needs, read as of one instant so that replay, members and head agree. */
export interface AttachQuery {
  /** Replay everything after this position (a resumed attach). */
  from?: { epoch: string; seq: number };
  /** Otherwise, the newest messages to replay (a rewind). */
  rewind?: { count: number; since?: number };
  /** Most events a replay may return. */
  replayLimit: number;
  /** Include the presence set. */
  members: boolean;
}

export interface AttachState {
  head: ChannelHead;
  /** Present when `from` was given: events after it up to `head`. */
  replay?: ReplayResult;
  /** Present when `rewind` was given: messages up to `head`, oldest first. */
  rewound?: ChannelEvent[];
  /** The presence set at `head` (action PRESENT), when asked for. */
  members: PresenceMessage[];
}

/** Receives every event of every channel this node subscribed to, in log order per channel. */
export type EngineListener = (key: ChannelKey, event: ChannelEvent) => void;

/** The channel half of the engine: serial assignment, the bounded message log and fan-out. */
export interface ChannelStore {
  /** Atomically assigns the next serial, appends to the log and fans out to every subscribed node. */
  publish(key: ChannelKey, input: ChannelEventInput, options?: PublishOptions): Promise<PublishOutcome>;
  /** The channel's current head, creating the channel's epoch if it has none. */
  head(key: ChannelKey): Promise<ChannelHead>;
  /** Events strictly after `seq` of `epoch`, oldest first, at most `limit`. */
  readAfter(key: ChannelKey, epoch: string, seq: number, limit: number): Promise<ReplayResult>;
  /** The newest `count` events of `kind` (all newer than `since` when given), oldest first. */
  readLast(key: ChannelKey, kind: EventKind, count: number, since?: number): Promise<ChannelEvent[]>;
  /**
   * Applies one connection's presence changes (ENTER / UPDATE / LEAVE) atomically: updates the
   * member set, appends the effective changes as one presence event and fans it out. An ENTER of a
   * present member becomes an UPDATE; an ENTER or UPDATE with the id the member already has (the
   * SDK's automatic re-enter after a resume) and a LEAVE of an absent member change nothing.
   * Throws 91003 when new members would exceed `maxMembers`.
   */
  presence(key: ChannelKey, input: ChannelEventInput, options: PresenceOptions): Promise<ChannelEvent | null>;
  /** Removes every member of `connectionId` with server-synthesised LEAVEs (ids not prefixed by the connectionId). */
  leaveConnection(key: ChannelKey, connectionId: string, timestamp: number): Promise<ChannelEvent | null>;
  /** The current presence set (action PRESENT). */
  members(key: ChannelKey): Promise<PresenceMessage[]>;
  /** Head, replay or rewind, and members, as of one instant. */
  attachState(key: ChannelKey, query: AttachQuery): Promise<AttachState>;
  /** A page of message or presence history. */
  history(key: ChannelKey, query: HistoryQuery): Promise<HistoryPage>;
  /** This node wants the events of `key` delivered to its listener. */
  subscribe(key: ChannelKey): Promise<void>;
  unsubscribe(key: ChannelKey): Promise<void>;
  /** Records node `nodeId`'s attachments to `key` (null: it has none left). */
  setOccupancy(key: ChannelKey, nodeId: string, metrics: OccupancyMetrics | null): Promise<void>;
  /** The sum over every node; null when no node has attachments. */
  occupancy(key: ChannelKey): Promise<OccupancyMetrics | null>;
  /** Active channels of an app: with attachments on some node, or with events in their log. */
  list(appId: string, query: ChannelListQuery): Promise<ChannelList>;
}

export type StatsUnit = 'minute' | 'hour' | 'day' | 'month';

/** One interval of an app's stats: flat entry names (`messages.inbound.realtime.messages.count`) → values. */
export interface StatsRecord {
  unit: StatsUnit;
  /** Interval start (ms, UTC). */
  start: number;
  /** Start of the newest minute that contributed. */
  lastMinute: number;
  entries: Record<string, number>;
}

export interface StatsQuery {
  unit: StatsUnit;
  /** Interval starts from `from` to `to` inclusive (ms). */
  from: number;
  to: number;
  direction: HistoryDirection;
  limit: number;
}

/**
 * Per-app stats, kept per minute and rolled up into hours, days and months as they are added.
 * Nodes count locally and add their counts every few seconds.
 */
export interface StatsStore {
  /** Merges `entries` into the minute starting at `minute` and its hour, day and month (`mergeStatsEntry`). */
  add(appId: string, minute: number, entries: Readonly<Record<string, number>>): Promise<void>;
  read(appId: string, query: StatsQuery): Promise<{ records: StatsRecord[]; more: boolean }>;
}

/** Apps created at runtime (sandbox `POST /apps`), visible to every node. */
export interface AppStore {
  /** Stores `record` unless its id is taken or `maxApps` apps exist. */
  create(record: AppRecord, maxApps: number): Promise<CreateAppResult>;
  /** The app, unless unknown or expired. */
  get(appId: string): Promise<AppRecord | undefined>;
  delete(appId: string): Promise<boolean>;
}

/**
 * A token revocation (`POST /keys/:keyName/revokeTokens`): revocable tokens of `keyName` that match
 * `target` (`clientId:x`, `revocationKey:y`) and were issued before `issuedBefore` are refused from
 * `appliesAt` on.
 */
export interface TokenRevocation {
  keyName: string;
  target: string;
  issuedBefore: number;
  appliesAt: number;
}

export type RevocationListener = (revocation: TokenRevocation) => void;

/** The auth half of the engine: what every node must agree on about tokens. */
export interface AuthStore {
  /**
   * Atomically records a TokenRequest nonce of `keyName`, remembered until `expiresAt`. False when it
   * is already recorded and not yet past `expiresAt`: a replay.
   */
  claimNonce(keyName: string, nonce: string, expiresAt: number): Promise<boolean>;
  /**
   * Stores revocations, each kept until `retainUntil` (a later one for the same key and target
   * replaces it), and announces every one to the revocation listener of every node.
   */
  revoke(revocations: readonly TokenRevocation[], retainUntil: number): Promise<void>;
  /** The stored revocations of `keyName` whose target is one of `targets`. */
  revocations(keyName: string, targets: readonly string[]): Promise<TokenRevocation[]>;
  /** Sets the node's one listener for revocations made on any node. */
  setRevocationListener(listener: RevocationListener): void;
}

/** A connection as every node can see it (shared engines only): enough to resume it anywhere. */
export interface ConnectionRecord {
  connectionId: string;
  appId: string;
  /** SHA-256 (hex) of the connection key's secret; the secret itself is never stored. */
  secretHash: string;
  clientId?: string;
  /** Highest msgSerial processed (kept current by publishes, see PublishOptions.connection). */
  msgSerial: number;
  remainPresentFor: number;
  /** Channels where the connection has presence members. */
  presenceChannels: string[];
  /** The node that owns the connection. */
  owner: string;
}

/** Called on the node that owned `connectionId` when another node took it over (a resume there). */
export type TakeoverListener = (connectionId: string, newOwner: string) => void;

/**
 * Connection state shared between nodes, so that a resume (or recover) can arrive at any node. The
 * owner keeps the record current; a record of a connection without a transport expires.
 */
export interface ConnectionStore {
  /** Creates or replaces the record of a live connection (no expiry while live). */
  save(record: ConnectionRecord): Promise<void>;
  load(connectionId: string): Promise<ConnectionRecord | undefined>;
  /**
   * Makes `owner` the owner (with a new secret hash), live again, and tells the previous owner to
   * let go (its takeover listener). Resolves with the previous owner.
   */
  claim(connectionId: string, owner: string, secretHash: string): Promise<string | undefined>;
  /** The connection lost its transport: resumable for `ttl` ms, then forgotten (unless claimed). */
  suspend(connectionId: string, ttl: number): Promise<void>;
  setPresenceChannels(connectionId: string, channels: readonly string[]): Promise<void>;
  remove(connectionId: string): Promise<void>;
  setTakeoverListener(listener: TakeoverListener): void;
  /** Publishes the URL other nodes use to reach this node (comet requests are forwarded there). */
  advertise(url: string): Promise<void>;
  /** Where a connection lives: its owner, that node's URL and whether it is alive. */
  locate(connectionId: string): Promise<ConnectionLocation | undefined>;
}

export interface ConnectionLocation {
  appId: string;
  owner: string;
  url: string | undefined;
  alive: boolean;
}

export interface Engine {
  /**
   * Whether several nodes share this engine. A node reports its occupancy only to a shared engine;
   * with a single-node engine it answers from its own local channels.
   */
  readonly shared: boolean;
  readonly channels: ChannelStore;
  readonly auth: AuthStore;
  /** Present in engines shared between nodes; a single node keeps its connections to itself. */
  readonly connections?: ConnectionStore;
  readonly stats: StatsStore;
  readonly apps: AppStore;
  /** Connects to shared state (a no-op for the memory engine); the node awaits it before listening. */
  start(): Promise<void>;
  /** False while shared state is unreachable (the node's /ready answers 503). @default always true when absent */
  isReady?(): boolean;
  /** Sets the node's one listener for channel events. */
  setListener(listener: EngineListener): void;
  /**
   * Sets what to call when the engine may have missed events (its connection to shared state was
   * lost and restored): the node then fetches, per channel, what came after the last event it saw.
   */
  setResyncListener(listener: () => void): void;
  close(): Promise<void>;
}
