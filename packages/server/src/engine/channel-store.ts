/**
 * The channel half of the engine: serial assignment, the bounded message log, presence sets,
 * fan-out to the nodes subscribed to a channel, occupancy and channel listing. Each engine has one
 * class implementing it (MemoryChannelStore, RedisChannelStore).
 */
import { isPlainObject, type Annotation, type Message, type PresenceMessage } from '@encke/protocol';

/** A channel within an app: `<appId>:<channelName>` (app ids never contain `:`). */
export type ChannelKey = string;

/** The `<appId>:` of the last app a key was made for: its keys share that one string. */
let lastApp = '';
let lastPrefix = ':';

export function channelKey(appId: string, name: string): ChannelKey {
  // A key of 13 characters or more is a pair of strings (V8's cons string) pointing at its parts:
  // built on one prefix string per app instead of a new `<appId>:` each, a channel's key costs no
  // more than its own (24 bytes a channel, bench S3).
  if (appId !== lastApp) {
    lastApp = appId;
    lastPrefix = `${appId}:`;
  }
  return lastPrefix + name;
}

export function splitChannelKey(key: ChannelKey): { appId: string; name: string } {
  const i = key.indexOf(':');
  return { appId: key.slice(0, i), name: key.slice(i + 1) };
}

export type EventKind = 'message' | 'presence' | 'annotation';

/**
 * What a publisher hands the engine: one published ProtocolMessage's worth of items.
 *
 * A message event is either a publish of new messages (action create) or one link of a message's
 * chain (engine/message-chain.ts): an update, delete or append of one message, or the summary its
 * annotations lead to. A chain event has one message, whose `serial` is the serial of the message
 * it changes; an update, delete or append is a new version of it, whose `version.serial` is this
 * event's message serial (filled in when the event gets its place in the log).
 */
export interface ChannelEventInput {
  kind: EventKind;
  /** `<connectionId>:<msgSerial>` of the publishing ProtocolMessage, when there is one. */
  id?: string;
  connectionId?: string;
  timestamp: number;
  messages?: Message[];
  presence?: PresenceMessage[];
  annotations?: Annotation[];
  /**
   * A chain event whose message as delivered is not the message as it now stands (an append
   * carries the fragment, a summary only the summary): the whole message after this event, for
   * history, rewind, `getMessage` and later changes. Absent when it is `messages[0]` itself.
   */
  full?: Message;
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

/** The counts of OccupancyMetrics. */
export const OCCUPANCY_FIELDS: readonly (keyof OccupancyMetrics)[] = [
  'connections',
  'publishers',
  'subscribers',
  'presenceConnections',
  'presenceSubscribers',
  'objectPublishers',
  'objectSubscribers',
];

/** Occupancy with every count at zero: a fresh object, for counting into or for a channel nobody is attached to. */
export function noOccupancy(): OccupancyMetrics {
  return {
    connections: 0,
    publishers: 0,
    subscribers: 0,
    presenceConnections: 0,
    presenceSubscribers: 0,
    objectPublishers: 0,
    objectSubscribers: 0,
  };
}

/** Whether a value (one node's occupancy report, read back from a shared store) has every count. */
export function isOccupancyMetrics(value: unknown): value is OccupancyMetrics {
  return isPlainObject(value) && OCCUPANCY_FIELDS.every((k) => typeof value[k] === 'number');
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

/** A message of the log as first published and as it now stands (see message-chain.ts). */
export interface StoredMessage {
  original: Message;
  /** The message after every update, delete, append and annotation summary so far. */
  latest: Message;
  /** Seq of the event that holds `latest` (the original's own while unchanged): what `amend` compares. */
  token: number;
}

/** A change to one message: the chain events to append if its latest form is still `token`. */
export interface AmendInput {
  /** The message serial of the message changed. */
  serial: string;
  token: number;
  /** Appended in order, each with the next serial; the last one holds the message's new latest form. */
  events: ChannelEventInput[];
  /** As PublishOptions.connection. */
  connection?: { id: string; msgSerial: number };
  /** As PublishOptions.retention. */
  retention?: LogRetention;
}

/**
 * What `amend` did: the appended events; `retry` when the message changed since it was read (read
 * it again and recompute); `gone` when the log no longer holds it.
 */
export type AmendOutcome = { events: ChannelEvent[] } | 'retry' | 'gone';

/** The chain of one message: every version (the original first) and every annotation, oldest first. */
export interface MessageChain {
  versions: Message[];
  annotations: Annotation[];
}

/** The channel half of the engine: serial assignment, the bounded message log and fan-out. */
export interface ChannelStore {
  /**
   * Atomically assigns the next serial, appends to the log and fans out to every subscribed node. A
   * store that holds the log itself (memory) answers at once, as it returns, and a refusal is thrown;
   * a shared one answers with a promise.
   */
  publish(
    key: ChannelKey,
    input: ChannelEventInput,
    options?: PublishOptions,
  ): PublishOutcome | Promise<PublishOutcome>;
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
  /**
   * Head, replay or rewind, and members, as of one instant. An engine that has them at hand (the
   * memory engine) answers at once, not with a promise: an open then attaches without a microtask hop.
   */
  attachState(key: ChannelKey, query: AttachQuery): AttachState | Promise<AttachState>;
  /** A page of message or presence history; messages as they now stand, in the places of their originals. */
  history(key: ChannelKey, query: HistoryQuery): Promise<HistoryPage>;
  /** Message `serial` (a message serial of this channel) as stored; null when the log does not hold it. */
  message(key: ChannelKey, serial: string): Promise<StoredMessage | null>;
  /**
   * Atomically checks that the message's latest form is still the one at `token`, appends the
   * events with the next serials, records the last one as its latest form and fans them out.
   */
  amend(key: ChannelKey, input: AmendInput): Promise<AmendOutcome>;
  /** The versions and annotations of message `serial`; null when the log does not hold it. */
  chain(key: ChannelKey, serial: string): Promise<MessageChain | null>;
  /**
   * This node wants the events of `key` delivered to its `EngineEvents.onChannelEvent`: done when the
   * promise resolves, or at once when there is none (the memory engine).
   */
  subscribe(key: ChannelKey): Promise<void> | void;
  unsubscribe(key: ChannelKey): Promise<void>;
  /** Records node `nodeId`'s attachments to `key` (null: it has none left). */
  setOccupancy(key: ChannelKey, nodeId: string, metrics: OccupancyMetrics | null): Promise<void>;
  /** The sum over every node; null when no node has attachments. */
  occupancy(key: ChannelKey): Promise<OccupancyMetrics | null>;
  /** Active channels of an app: with attachments on some node, or with events in their log. */
  list(appId: string, query: ChannelListQuery): Promise<ChannelList>;
}
