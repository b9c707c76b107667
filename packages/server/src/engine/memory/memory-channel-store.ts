/**
 * The memory engine's channel store: every channel's state (MemoryChannel) in one map, per-node
 * occupancy, and delivery of each new event to the node when it subscribed to the channel.
 */
import type { PresenceMessage } from '@encke/protocol';
import type { Clock } from '../../util/clock.js';
import type {
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
  OccupancyMetrics,
  PresenceOptions,
  PublishOptions,
  PublishOutcome,
  ReplayResult,
} from '../channel-store.js';
import { MemoryChannel } from './memory-channel.js';

/** Hands a new event of a subscribed channel to the node. */
export type DeliverEvent = (key: ChannelKey, event: ChannelEvent) => void;

export class MemoryChannelStore implements ChannelStore {
  private readonly map = new Map<ChannelKey, MemoryChannel>();
  /** Channel → node → that node's attachments. */
  private readonly occupancies = new Map<ChannelKey, Map<string, OccupancyMetrics>>();

  constructor(
    private readonly clock: Clock,
    private readonly retention: LogRetention,
    /** How long an unused, empty channel keeps its epoch (so resuming clients keep continuity). */
    private readonly channelRetention: number,
    private readonly deliver: DeliverEvent,
  ) {}

  publish(key: ChannelKey, input: ChannelEventInput, options?: PublishOptions): Promise<PublishOutcome> {
    const ch = this.channel(key);
    const now = this.clock.now();
    const outcome = ch.append(input, now, options?.idempotencyWindow ?? 0, options?.retention);
    this.emit(key, ch, outcome.event, now);
    return Promise.resolve(outcome);
  }

  presence(key: ChannelKey, input: ChannelEventInput, options: PresenceOptions): Promise<ChannelEvent | null> {
    try {
      const ch = this.channel(key);
      const now = this.clock.now();
      const event = ch.applyPresence(input, now, options.maxMembers);
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
    const event = ch.leaveConnection(connectionId, timestamp, now);
    this.emit(key, ch, event, now);
    return Promise.resolve(event);
  }

  members(key: ChannelKey): Promise<PresenceMessage[]> {
    return Promise.resolve([...(this.map.get(key)?.members.values() ?? [])]);
  }

  attachState(key: ChannelKey, query: AttachQuery): Promise<AttachState> {
    const ch = this.channel(key);
    ch.trim(this.clock.now());
    const state: AttachState = { head: ch.head(), members: query.members ? [...ch.members.values()] : [] };
    if (query.from) state.replay = ch.readAfter(query.from.epoch, query.from.seq, query.replayLimit);
    else if (query.rewind) state.rewound = ch.readLast('message', query.rewind.count, query.rewind.since);
    return Promise.resolve(state);
  }

  /** Trims the log after an append and hands the event to the node if it listens to the channel. */
  private emit(key: ChannelKey, ch: MemoryChannel, event: ChannelEvent | null, now: number): void {
    ch.trim(now);
    if (event && ch.subscribed) this.deliver(key, event);
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

  subscribe(key: ChannelKey): Promise<void> {
    this.channel(key).subscribed = true;
    return Promise.resolve();
  }

  unsubscribe(key: ChannelKey): Promise<void> {
    const ch = this.map.get(key);
    if (ch) {
      ch.subscribed = false;
      ch.touched = this.clock.now();
    }
    return Promise.resolve();
  }

  setOccupancy(key: ChannelKey, nodeId: string, metrics: OccupancyMetrics | null): Promise<void> {
    let nodes = this.occupancies.get(key);
    if (metrics) {
      if (!nodes) this.occupancies.set(key, (nodes = new Map()));
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

  private channel(key: ChannelKey): MemoryChannel {
    let ch = this.map.get(key);
    if (!ch) {
      ch = new MemoryChannel(this.clock.now(), this.retention);
      this.map.set(key, ch);
    }
    return ch;
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
      if (!ch.subscribed && ch.isEmpty() && now - ch.touched > this.channelRetention) this.map.delete(key);
    }
  }

  clear(): void {
    this.map.clear();
    this.occupancies.clear();
  }
}
