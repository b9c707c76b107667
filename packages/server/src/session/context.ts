import type { AppRegistry } from '../apps/registry.js';
import type { TokenService } from '../auth/tokens.js';
import type { LocalChannels } from '../channels/registry.js';
import type { Engine } from '../engine/engine.js';
import type { ResolvedOptions } from '../options.js';
import type { StatsCounters } from '../stats/counters.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { FlushScheduler } from '../util/scheduler.js';
import type { SessionRegistry } from './registry.js';

/** The node's services, shared by every session (one object, not one field per session). */
export interface NodeContext {
  readonly options: ResolvedOptions;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly engine: Engine;
  readonly apps: AppRegistry;
  readonly channels: LocalChannels;
  readonly sessions: SessionRegistry;
  readonly scheduler: FlushScheduler;
  /** This node's stats counts, added to the engine's stats store every `statsFlushInterval`. */
  readonly stats: StatsCounters;
  /** Issues and verifies tokens (encke tokens and Ably JWTs). */
  readonly tokens: TokenService;
}
