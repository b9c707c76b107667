/**
 * The channel half of the engine: serial assignment, the bounded message log, presence sets,
 * fan-out to the nodes subscribed to a channel, occupancy and channel listing. Each engine has one
 * class implementing it (MemoryChannelStore, RedisChannelStore).
 */
import type { Message, PresenceMessage } from '@encke/protocol';

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
  /** This node wants the events of `key` delivered to its `EngineEvents.onChannelEvent`. */
  subscribe(key: ChannelKey): Promise<void>;
  unsubscribe(key: ChannelKey): Promise<void>;
  /** Records node `nodeId`'s attachments to `key` (null: it has none left). */
  setOccupancy(key: ChannelKey, nodeId: string, metrics: OccupancyMetrics | null): Promise<void>;
  /** The sum over every node; null when no node has attachments. */
  occupancy(key: ChannelKey): Promise<OccupancyMetrics | null>;
  /** Active channels of an app: with attachments on some node, or with events in their log. */
  list(appId: string, query: ChannelListQuery): Promise<ChannelList>;
}
