/**
 * The public API of @encke/server: create a node, its options, app configuration, the engines and
 * the engine interfaces (to plug in another engine), the clock and logger interfaces. Test helpers
 * and internals are in `@encke/server/internal` (internal.ts), not here.
 */
export { createServer, EnckeNode, SANDBOX_WARNING } from './node.js';
export type { ConnectionInspection, NodeInspector } from './inspect.js';
export {
  resolveOptions,
  DEFAULTS,
  isLoopbackHost,
  type ServerOptions,
  type ResolvedOptions,
  type DerivedOptions,
} from './options.js';
export {
  buildApp,
  buildApps,
  ConfigError,
  type AppConfig,
  type KeyConfig,
  type NamespaceConfig,
} from './apps/config.js';
export type { App, ApiKey, Namespace } from './apps/app.js';
export type { AppRecord, ChannelFixture, CreateAppResult, PresenceFixture } from './apps/record.js';
export { MemoryEngine, type MemoryEngineOptions } from './engine/memory/memory-engine.js';
export { RedisEngine, type RedisEngineOptions } from './engine/redis/redis-engine.js';
export type * from './engine/engine.js';
export * from './engine/channel-store.js';
export type * from './engine/auth-store.js';
export type * from './engine/connection-store.js';
export type * from './engine/stats-store.js';
export type * from './engine/app-store.js';
export { formatSerial, parseSerial } from './engine/serial.js';
export { systemClock, type Clock, type TimerHandle } from './util/clock.js';
export { silentLogger, type Logger } from './util/logger.js';
export {
  Metrics,
  type MetricsSnapshot,
  type ConnectionCounts,
  type DisconnectReason,
  type MessageSource,
  type MetricsTransport,
  type MetricsFormat,
} from './metrics/metrics.js';
export type { HistogramSnapshot } from './metrics/histogram.js';
export { FAMILIES as METRIC_FAMILIES } from './metrics/prometheus.js';
export type { Readiness } from './http/health.js';
export { TokenService, DEFAULT_TOKEN_TTL, type TokenDetails, type TokenParams } from './auth/tokens.js';
export type { AuthContext, TokenVerifier } from './auth/authenticate.js';

export type { Faults, FaultKind, LimitName } from './util/faults.js';
