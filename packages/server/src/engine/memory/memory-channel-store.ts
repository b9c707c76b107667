/**
 * The memory engine's channel store: every channel's state (MemoryChannel) in one map, per-node
 * occupancy, and delivery of each new event to the node when it subscribed to the channel.
 */
import { AblyError, Err, type PresenceMessage } from '@encke/protocol';
import type { Clock } from '../../util/clock.js';
import type {
  AmendInput,
  AmendOutcome,
  AttachQuery,
  AttachState,
  ChannelEvent,
  ChannelEventInput,
  ChannelHead,
  ChannelKey,
  ChannelList,
  ChannelListQuery,
  ChannelStore,
  EventKind,
  HistoryPage,
  HistoryQuery,
  LogRetention,
  MessageChain,
  OccupancyMetrics,
  PresenceOptions,
  PublishOptions,
  PublishOutcome,
  ReplayResult,
  StoredMessage,
} from '../channel-store.js';
import { afterFanOut } from '../../util/scheduler.js';
import { MemoryChannel } from './memory-channel.js';

/** Hands a new event of a subscribed channel to the node. */
export type DeliverEvent = (key: ChannelKey, event: ChannelEvent) => void;

/** Bounds on what the store holds in all (the node's memory): channels, and presence members. */
export interface MemoryStoreLimits {
  /** Channels with state; a publish, presence or attach creating one more is refused with 40114. */
  maxChannels: number;
  /** Presence members across all channels; an enter past it is refused with 91003. */
  maxMembers: number;
}

/** How often (ms) a full store sweeps expired channels before refusing a new one. */
const FULL_SWEEP_INTERVAL = 1000;

export class MemoryChannelStore implements ChannelStore {
  private readonly map = new Map<ChannelKey, MemoryChannel>();
  /** Channel → node → that node's attachments. */
  private readonly occupancies = new Map<ChannelKey, Map<string, OccupancyMetrics>>();
  /** Presence members of every channel together. */
  private memberTotal = 0;
  private lastFullSweep = 0;
  /** Channels that kept events this tick, to be packed once the tick's fan-out is written (`packLater`). */
  private toPack: MemoryChannel[] = [];
  private readonly packBound = (): void => this.packAll();

  constructor(
    private readonly clock: Clock,
    private readonly retention: LogRetention,
    /** How long an unused, empty channel keeps its epoch (so resuming clients keep continuity). */
    private readonly channelRetention: number,
    private readonly deliver: DeliverEvent,
    private readonly limits: MemoryStoreLimits = { maxChannels: Infinity, maxMembers: Infinity },
  ) {}

  /** Presence members held across all channels. */
  get memberCount(): number {
    return this.memberTotal;
  }

  get size(): number {
    return this.map.size;
  }

  /** Answered at once (no promise: bench S7, a publish's garbage); a refusal (40114) is thrown. */
  publish(key: ChannelKey, input: ChannelEventInput, options?: PublishOptions): PublishOutcome {
    const ch = this.channel(key, true);
    const now = this.clock.now();
    const outcome = ch.append(input, now, options?.idempotencyWindow ?? 0, options?.retention);
    this.emit(key, ch, outcome.event, now);
    return outcome;
  }

  presence(key: ChannelKey, input: ChannelEventInput, options: PresenceOptions): Promise<ChannelEvent | null> {
    try {
      const ch = this.channel(key, true);
      const now = this.clock.now();
      const before = ch.members.size;
      // The channel's own bound, or what the node's total leaves, whichever is lower.
      const room = before + Math.max(0, this.limits.maxMembers - this.memberTotal);
      const event = ch.applyPresence(input, now, Math.min(options.maxMembers, room));
      this.memberTotal += ch.members.size - before;
      this.emit(key, ch, event, now);
      return Promise.resolve(event);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  leaveConnection(key: ChannelKey, connectionId: string, timestamp: number): Promise<ChannelEvent | null> {
    const ch = this.map.get(key);
    if (!ch) return Promise.resolve(null);
    const now = this.clock.now();
    const before = ch.members.size;
    const event = ch.leaveConnection(connectionId, timestamp, now);
    this.memberTotal += ch.members.size - before;
    this.emit(key, ch, event, now);
    return Promise.resolve(event);
  }

  members(key: ChannelKey): Promise<PresenceMessage[]> {
    return Promise.resolve([...(this.map.get(key)?.members.values() ?? [])]);
  }

  attachState(key: ChannelKey, query: AttachQuery): AttachState {
    const ch = this.channel(key, true);
    ch.trim(this.clock.now());
    const state: AttachState = { head: ch.head(), members: query.members ? [...ch.members.values()] : [] };
    if (query.from) state.replay = ch.readAfter(query.from.epoch, query.from.seq, query.replayLimit);
    else if (query.rewind) state.rewound = ch.readLast('message', query.rewind.count, query.rewind.since);
    return state;
  }

  /**
   * Hands a new event to the node if it listens to the channel; the log is trimmed and the event
   * written as bytes after the tick's fan-out (`packLater`).
   */
  private emit(key: ChannelKey, ch: MemoryChannel, event: ChannelEvent | null, now: number): void {
    if (event && ch.subscribed) this.deliver(key, event);
    this.packLater(ch, now);
  }

  /**
   * Trims `ch`'s log and writes its new events as bytes once this tick's fan-out is written
   * (util/scheduler.ts `afterFanOut`; bench S7: v8's serializer, ~30k instructions a publish, and the
   * trim no longer run between a publish's read and its first subscriber's write). Every read of a
   * log trims it first and packs what it reads (packed-log.ts), so no reader can tell.
   */
  private packLater(ch: MemoryChannel, now: number): void {
    if (ch.unpacked === 0) {
      ch.trim(now);
      return;
    }
    const toPack = this.toPack;
    if (toPack.length === 0) afterFanOut(this.packBound);
    else if (toPack[toPack.length - 1] === ch) return; // (a channel publishing again in the tick: listed once)
    toPack.push(ch);
  }

  private packAll(): void {
    const channels = this.toPack;
    this.toPack = [];
    const now = this.clock.now();
    for (let i = 0; i < channels.length; i++) {
      const ch = channels[i]!;
      // Trimmed first: an event the trim drops is never written.
      ch.trim(now);
      try {
        ch.pack();
      } catch {
        // Not reached with validated input (strings, binary data, JSON values). An event that could not
        // be written stays an object in the log, trimmed as the others are; a read of it fails there.
      }
    }
  }

  head(key: ChannelKey): Promise<ChannelHead> {
    return Promise.resolve(this.channel(key).head());
  }

  readAfter(key: ChannelKey, epoch: string, seq: number, limit: number): Promise<ReplayResult> {
    const ch = this.trimmed(key);
    if (!ch) return Promise.resolve({ events: [], complete: false });
    return Promise.resolve(ch.readAfter(epoch, seq, limit));
  }

  readLast(key: ChannelKey, kind: EventKind, count: number, since?: number): Promise<ChannelEvent[]> {
    const ch = this.trimmed(key);
    return Promise.resolve(ch ? ch.readLast(kind, count, since) : []);
  }

  history(key: ChannelKey, query: HistoryQuery): Promise<HistoryPage> {
    const ch = this.trimmed(key);
    if (!ch) return Promise.resolve({ head: null, entries: [], more: false, stale: query.epoch !== undefined });
    return Promise.resolve(ch.history(query));
  }

  message(key: ChannelKey, serial: string): Promise<StoredMessage | null> {
    return Promise.resolve(this.trimmed(key)?.message(serial) ?? null);
  }

  amend(key: ChannelKey, input: AmendInput): Promise<AmendOutcome> {
    const ch = this.map.get(key);
    if (!ch) return Promise.resolve('gone');
    const now = this.clock.now();
    ch.trim(now);
    const outcome = ch.amend(input, now);
    if (outcome !== 'retry' && outcome !== 'gone') {
      if (ch.subscribed) for (const event of outcome.events) this.deliver(key, event);
      this.packLater(ch, now);
    }
    return Promise.resolve(outcome);
  }

  chain(key: ChannelKey, serial: string): Promise<MessageChain | null> {
    return Promise.resolve(this.trimmed(key)?.chain(serial) ?? null);
  }

  /** Subscribed at once: events of `key` are handed to the node from now on. */
  subscribe(key: ChannelKey): void {
    this.channel(key).subscribed = true;
  }

  unsubscribe(key: ChannelKey): Promise<void> {
    const ch = this.map.get(key);
    if (ch) {
      ch.subscribed = false;
      ch.touch(this.clock.now());
    }
    return Promise.resolve();
  }

  setOccupancy(key: ChannelKey, nodeId: string, metrics: OccupancyMetrics | null): Promise<void> {
    let nodes = this.occupancies.get(key);
    if (metrics) {
      if (!nodes) this.occupancies.set(key, (nodes = new Map<string, OccupancyMetrics>()));
      nodes.set(nodeId, { ...metrics });
    } else if (nodes) {
      nodes.delete(nodeId);
      if (nodes.size === 0) this.occupancies.delete(key);
    }
    return Promise.resolve();
  }

  occupancy(key: ChannelKey): Promise<OccupancyMetrics | null> {
    const nodes = this.occupancies.get(key);
    if (!nodes) return Promise.resolve(null);
    let sum: OccupancyMetrics | null = null;
    for (const m of nodes.values()) {
      if (!sum) sum = { ...m };
      else for (const k of Object.keys(sum) as (keyof OccupancyMetrics)[]) sum[k] += m[k];
    }
    return Promise.resolve(sum);
  }

  list(appId: string, query: ChannelListQuery): Promise<ChannelList> {
    const appPrefix = `${appId}:`;
    const namePrefix = query.prefix ?? '';
    const now = this.clock.now();
    const names: string[] = [];
    const consider = (key: ChannelKey): void => {
      if (!key.startsWith(appPrefix)) return;
      const name = key.slice(appPrefix.length);
      if (name.startsWith(namePrefix) && (query.after === undefined || name > query.after)) names.push(name);
    };
    for (const key of this.occupancies.keys()) consider(key);
    for (const [key, ch] of this.map) {
      if (this.occupancies.has(key)) continue;
      ch.trim(now);
      if (ch.hasEvents) consider(key);
    }
    names.sort();
    return Promise.resolve({ names: names.slice(0, query.limit), more: names.length > query.limit });
  }

  /** The channel's state, created if needed (`bounded`: refused with 40114 past `maxChannels`). */
  private channel(key: ChannelKey, bounded = false): MemoryChannel {
    let ch = this.map.get(key);
    if (!ch) {
      if (bounded && this.map.size >= this.limits.maxChannels) this.refuseNewChannel();
      ch = new MemoryChannel(this.clock.now(), this.retention);
      this.map.set(key, ch);
    }
    return ch;
  }

  /** Full: expired channels are swept (at most once a second) and, if that frees nothing, the new one is refused. */
  private refuseNewChannel(): void {
    const now = this.clock.now();
    if (now - this.lastFullSweep >= FULL_SWEEP_INTERVAL) {
      this.lastFullSweep = now;
      this.sweep(now);
      if (this.map.size < this.limits.maxChannels) return;
    }
    throw new AblyError(
      Err.channelLimit,
      `This server holds its limit of ${this.limits.maxChannels} channels; no new channel can be used now`,
    );
  }

  /** The channel with its log trimmed to now, if it has state. */
  private trimmed(key: ChannelKey): MemoryChannel | undefined {
    const ch = this.map.get(key);
    ch?.trim(this.clock.now());
    return ch;
  }

  /** Trims every log by age and forgets channels that are unused, empty and past retention. */
  sweep(now: number): void {
    for (const [key, ch] of this.map) {
      ch.trim(now);
      if (!ch.subscribed && ch.isEmpty() && ch.untouchedFor(now) > this.channelRetention) this.map.delete(key);
    }
  }

  clear(): void {
    this.map.clear();
    this.occupancies.clear();
    this.memberTotal = 0;
  }
}
