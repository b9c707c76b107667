/**
 * The in-memory engine: one process, no dependencies. It is the reference implementation of the
 * engine interfaces; the Redis engine must behave the same (shared test suite).
 */
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { PresenceMessage } from '@encke/protocol';
import type {
  AttachQuery,
  AttachState,
  AuthStore,
  AppStore,
  ChannelEvent,
  ChannelEventInput,
  ChannelHead,
  ChannelKey,
  ChannelList,
  ChannelListQuery,
  ChannelStore,
  Engine,
  EngineListener,
  EventKind,
  PresenceOptions,
  HistoryPage,
  HistoryQuery,
  LogRetention,
  OccupancyMetrics,
  PublishOptions,
  PublishOutcome,
  ReplayResult,
  StatsStore,
} from '../engine.js';
import { MemoryAuthStore } from './memory-auth.js';
import { MemoryApps } from './memory-apps.js';
import { MemoryChannel } from './memory-channel.js';
import { MemoryStats } from './memory-stats.js';

export interface MemoryEngineOptions {
  clock: Clock;
  /** Events kept per channel (unless a publish sets a longer retention). */
  logMaxCount: number;
  /** Age in ms after which events leave a channel's log (unless a publish sets a longer retention). */
  logMaxAge: number;
  /** How long an unused, empty channel keeps its epoch (so resuming clients keep continuity). */
  channelRetention: number;
  /** Stats intervals kept per app and unit. @default 10080 */
  statsMaxIntervals?: number;
}

export class MemoryEngine implements Engine, ChannelStore {
  readonly shared = false;
  readonly channels: ChannelStore = this;
  readonly auth: AuthStore;
  private readonly authStore: MemoryAuthStore;
  readonly stats: StatsStore;
  readonly apps: AppStore;
  private readonly map = new Map<ChannelKey, MemoryChannel>();
  /** Channel → node → that node's attachments. */
  private readonly occupancies = new Map<ChannelKey, Map<string, OccupancyMetrics>>();
  private readonly memoryApps: MemoryApps;
  private readonly retention: LogRetention;
  private listener: EngineListener = () => {};
  private readonly sweeper: TimerHandle;

  constructor(private readonly options: MemoryEngineOptions) {
    this.auth = this.authStore = new MemoryAuthStore(options.clock);
    this.retention = { maxAge: options.logMaxAge, maxCount: options.logMaxCount };
    this.stats = new MemoryStats(options.statsMaxIntervals ?? 10_080);
    this.apps = this.memoryApps = new MemoryApps(options.clock);
    const every = Math.max(1000, Math.min(30_000, Math.floor(options.logMaxAge / 2)));
    this.sweeper = options.clock.setInterval(() => this.sweep(), every);
  }

  setListener(listener: EngineListener): void {
    this.listener = listener;
  }

  /** Nothing to connect to. */
  start(): Promise<void> {
    return Promise.resolve();
  }

  /** The memory engine never misses events. */
  setResyncListener(): void {}

  async close(): Promise<void> {
    this.options.clock.clearInterval(this.sweeper);
    this.map.clear();
    this.occupancies.clear();
  }

  publish(key: ChannelKey, input: ChannelEventInput, options?: PublishOptions): Promise<PublishOutcome> {
    const ch = this.channel(key);
    const now = this.options.clock.now();
    const outcome = ch.append(input, now, options?.idempotencyWindow ?? 0, options?.retention);
    this.emit(key, ch, outcome.event, now);
    return Promise.resolve(outcome);
  }

  presence(key: ChannelKey, input: ChannelEventInput, options: PresenceOptions): Promise<ChannelEvent | null> {
    try {
      const ch = this.channel(key);
      const now = this.options.clock.now();
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
    const now = this.options.clock.now();
    const event = ch.leaveConnection(connectionId, timestamp, now);
    this.emit(key, ch, event, now);
    return Promise.resolve(event);
  }

  members(key: ChannelKey): Promise<PresenceMessage[]> {
    return Promise.resolve([...(this.map.get(key)?.members.values() ?? [])]);
  }

  attachState(key: ChannelKey, query: AttachQuery): Promise<AttachState> {
    const ch = this.channel(key);
    ch.trim(this.options.clock.now());
    const state: AttachState = { head: ch.head(), members: query.members ? [...ch.members.values()] : [] };
    if (query.from) state.replay = ch.readAfter(query.from.epoch, query.from.seq, query.replayLimit);
    else if (query.rewind) state.rewound = ch.readLast('message', query.rewind.count, query.rewind.since);
    return Promise.resolve(state);
  }

  /** Trims the log after an append and hands the event to the node if it listens to the channel. */
  private emit(key: ChannelKey, ch: MemoryChannel, event: ChannelEvent | null, now: number): void {
    ch.trim(now);
    if (event && ch.subscribed) this.listener(key, event);
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
      ch.touched = this.options.clock.now();
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
    const now = this.options.clock.now();
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

  /** Number of channels with state, for tests and metrics. */
  get channelCount(): number {
    return this.map.size;
  }

  private channel(key: ChannelKey): MemoryChannel {
    let ch = this.map.get(key);
    if (!ch) {
      ch = new MemoryChannel(this.options.clock.now(), this.retention);
      this.map.set(key, ch);
    }
    return ch;
  }

  /** The channel with its log trimmed to now, if it has state. */
  private trimmed(key: ChannelKey): MemoryChannel | undefined {
    const ch = this.map.get(key);
    ch?.trim(this.options.clock.now());
    return ch;
  }

  /** Trims every log by age, forgets channels that are unused, empty and past retention, expired apps and old auth state. */
  private sweep(): void {
    const now = this.options.clock.now();
    this.authStore.sweep(now);
    for (const [key, ch] of this.map) {
      ch.trim(now);
      if (!ch.subscribed && ch.isEmpty() && now - ch.touched > this.options.channelRetention) this.map.delete(key);
    }
    this.memoryApps.sweep();
  }
}
