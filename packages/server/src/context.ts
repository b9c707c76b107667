/**
 * The node's services, shared by every session, transport and REST handler (one object, not one
 * field per session). Built once by the node (node.ts); everything below the node takes only the
 * parts it needs.
 */
import type { AppRegistry } from './apps/registry.js';
import type { TokenService } from './auth/tokens.js';
import type { LocalChannels } from './channels/local-channels.js';
import type { MessageChanges } from './channels/message-changes.js';
import type { ChannelPublisher } from './channels/publisher.js';
import type { Engine } from './engine/engine.js';
import type { Metrics } from './metrics/metrics.js';
import type { ResolvedOptions } from './options.js';
import type { ConnectionRecords } from './session/connection-records.js';
import type { SessionRegistry } from './session/registry.js';
import type { StatsCounters } from './stats/counters.js';
import type { Clock } from './util/clock.js';
import type { Faults } from './util/faults.js';
import type { Logger } from './util/logger.js';
import type { FlushScheduler } from './util/scheduler.js';

export interface NodeContext {
  readonly options: ResolvedOptions;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly engine: Engine;
  readonly apps: AppRegistry;
  /** This node's channels: who is attached where; delivers engine events to them once per tick. */
  readonly channels: LocalChannels;
  /** The one publish path of realtime and REST publishes. */
  readonly publisher: ChannelPublisher;
  /** Updates, deletes, appends and annotations of published messages, realtime and REST alike. */
  readonly changes: MessageChanges;
  /** This node's sessions, and the one lookup of a connection by key (here, on another node, or unknown). */
  readonly sessions: SessionRegistry;
  /** The shared records of this node's connections (kept with a shared engine; no-ops without one). */
  readonly records: ConnectionRecords;
  readonly scheduler: FlushScheduler;
  /** This node's stats counts, added to the engine's stats store every `statsFlushInterval`. */
  readonly stats: StatsCounters;
  /** Issues and verifies tokens (encke tokens and Ably JWTs). */
  readonly tokens: TokenService;
  /** The last resort for exceptions nothing else handled: logged at error level and counted. */
  readonly faults: Faults;
  /** Operational metrics every layer reports into (/metrics, `node.metrics.snapshot()`). */
  readonly metrics: Metrics;
}
