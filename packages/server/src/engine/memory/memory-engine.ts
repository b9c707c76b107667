/**
 * The in-memory engine: one process, no dependencies. It is the reference implementation of the
 * engine interfaces; the Redis engine must behave the same (shared contract suite).
 */
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { Engine, EngineEvents } from '../engine.js';
import { MemoryApps } from './memory-apps.js';
import { MemoryAuthStore } from './memory-auth.js';
import { MemoryChannelStore } from './memory-channel-store.js';
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
  /** Channels with state at once (40114 past it). @default unbounded */
  maxChannels?: number;
  /** Presence members across all channels (91003 past it). @default unbounded */
  maxPresenceMembers?: number;
}

export class MemoryEngine implements Engine {
  readonly shared = false;
  readonly channels: MemoryChannelStore;
  readonly auth: MemoryAuthStore;
  readonly stats: MemoryStats;
  readonly apps: MemoryApps;
  /** The node's handler; events before `start` have no one to go to. */
  private events: EngineEvents | null = null;
  private readonly sweeper: TimerHandle;

  constructor(private readonly options: MemoryEngineOptions) {
    const retention = { maxAge: options.logMaxAge, maxCount: options.logMaxCount };
    const limits = { maxChannels: options.maxChannels ?? Infinity, maxMembers: options.maxPresenceMembers ?? Infinity };
    this.channels = new MemoryChannelStore(
      options.clock,
      retention,
      options.channelRetention,
      (key, event) => this.events?.onChannelEvent(key, event),
      limits,
    );
    this.auth = new MemoryAuthStore(options.clock, (revocation) => this.events?.onRevocation(revocation));
    this.stats = new MemoryStats(options.statsMaxIntervals ?? 10_080);
    this.apps = new MemoryApps(options.clock);
    const every = Math.max(1000, Math.min(30_000, Math.floor(options.logMaxAge / 2)));
    this.sweeper = options.clock.setInterval(() => this.sweep(), every);
  }

  /** Nothing to connect to; the memory engine never misses events, so it never asks for a resync. */
  start(events: EngineEvents): Promise<void> {
    this.events = events;
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.options.clock.clearInterval(this.sweeper);
    this.events = null;
    this.channels.clear();
  }

  /** Forgets what is past its time: old log entries, unused channels, expired apps and auth state. */
  private sweep(): void {
    const now = this.options.clock.now();
    this.auth.sweep(now);
    this.channels.sweep(now);
    this.apps.sweep();
  }
}
