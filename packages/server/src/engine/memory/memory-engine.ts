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
  ChannelEvent,
  ChannelEventInput,
  ChannelHead,
  ChannelKey,
  ChannelStore,
  Engine,
  EngineListener,
  EventKind,
  PresenceOptions,
  PublishOptions,
  PublishOutcome,
  ReplayResult,
} from '../engine.js';
import { MemoryAuthStore } from './memory-auth.js';
import { MemoryChannel } from './memory-channel.js';

export interface MemoryEngineOptions {
  clock: Clock;
  /** Events kept per channel. */
  logMaxCount: number;
  /** Age in ms after which events leave a channel's log. */
  logMaxAge: number;
  /** How long an unused, empty channel keeps its epoch (so resuming clients keep continuity). */
  channelRetention: number;
}

export class MemoryEngine implements Engine, ChannelStore {
  readonly channels: ChannelStore = this;
  readonly auth: AuthStore;
  private readonly authStore: MemoryAuthStore;
  private readonly map = new Map<ChannelKey, MemoryChannel>();
  private listener: EngineListener = () => {};
  private readonly sweeper: TimerHandle;

  constructor(private readonly options: MemoryEngineOptions) {
    this.auth = this.authStore = new MemoryAuthStore(options.clock);
    const every = Math.max(1000, Math.min(30_000, Math.floor(options.logMaxAge / 2)));
    this.sweeper = options.clock.setInterval(() => this.sweep(), every);
  }

  setListener(listener: EngineListener): void {
    this.listener = listener;
  }

  /** The memory engine never misses events. */
  setResyncListener(): void {}

  async close(): Promise<void> {
    this.options.clock.clearInterval(this.sweeper);
    this.map.clear();
  }

  publish(key: ChannelKey, input: ChannelEventInput, options?: PublishOptions): Promise<PublishOutcome> {
    const ch = this.channel(key);
    const now = this.options.clock.now();
    const outcome = ch.append(input, now, options?.idempotencyWindow ?? 0);
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
    ch.trim(this.options.clock.now(), this.options.logMaxCount, this.options.logMaxAge);
    const state: AttachState = { head: ch.head(), members: query.members ? [...ch.members.values()] : [] };
    if (query.from) state.replay = ch.readAfter(query.from.epoch, query.from.seq, query.replayLimit);
    else if (query.rewind) state.rewound = ch.readLast('message', query.rewind.count, query.rewind.since);
    return Promise.resolve(state);
  }

  /** Trims the log after an append and hands the event to the node if it listens to the channel. */
  private emit(key: ChannelKey, ch: MemoryChannel, event: ChannelEvent | null, now: number): void {
    ch.trim(now, this.options.logMaxCount, this.options.logMaxAge);
    if (event && ch.subscribed) this.listener(key, event);
  }

  head(key: ChannelKey): Promise<ChannelHead> {
    return Promise.resolve(this.channel(key).head());
  }

  readAfter(key: ChannelKey, epoch: string, seq: number, limit: number): Promise<ReplayResult> {
    const ch = this.map.get(key);
    if (!ch) return Promise.resolve({ events: [], complete: false });
    ch.trim(this.options.clock.now(), this.options.logMaxCount, this.options.logMaxAge);
    return Promise.resolve(ch.readAfter(epoch, seq, limit));
  }

  readLast(key: ChannelKey, kind: EventKind, count: number, since?: number): Promise<ChannelEvent[]> {
    const ch = this.map.get(key);
    if (!ch) return Promise.resolve([]);
    ch.trim(this.options.clock.now(), this.options.logMaxCount, this.options.logMaxAge);
    return Promise.resolve(ch.readLast(kind, count, since));
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

  /** Number of channels with state, for tests and metrics. */
  get channelCount(): number {
    return this.map.size;
  }

  private channel(key: ChannelKey): MemoryChannel {
    let ch = this.map.get(key);
    if (!ch) {
      ch = new MemoryChannel(this.options.clock.now());
      this.map.set(key, ch);
    }
    return ch;
  }

  /** Trims every log by age, forgets channels that are unused, empty and past retention, and old auth state. */
  private sweep(): void {
    const now = this.options.clock.now();
    this.authStore.sweep(now);
    for (const [key, ch] of this.map) {
      ch.trim(now, this.options.logMaxCount, this.options.logMaxAge);
      if (!ch.subscribed && ch.isEmpty() && now - ch.touched > this.options.channelRetention) this.map.delete(key);
    }
  }
}
