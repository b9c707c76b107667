/**
 * The in-memory engine: one process, no dependencies. It is the reference implementation of the
 * engine interfaces; the Redis engine must behave the same (shared test suite).
 */
import type { Clock, TimerHandle } from '../../util/clock.js';
import type {
  AuthStore,
  ChannelEvent,
  ChannelEventInput,
  ChannelHead,
  ChannelKey,
  ChannelStore,
  Engine,
  EngineListener,
  EventKind,
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

  async close(): Promise<void> {
    this.options.clock.clearInterval(this.sweeper);
    this.map.clear();
  }

  publish(key: ChannelKey, input: ChannelEventInput, options?: PublishOptions): Promise<PublishOutcome> {
    const ch = this.channel(key);
    const now = this.options.clock.now();
    const outcome = ch.append(input, now, options?.idempotencyWindow ?? 0);
    ch.trim(now, this.options.logMaxCount, this.options.logMaxAge);
    if (outcome.event && ch.subscribed) this.listener(key, outcome.event);
    return Promise.resolve(outcome);
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
