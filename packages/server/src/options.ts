/**
 * Every option of the server in one place, alphabetical, each with its default. Every resource limit
 * is an explicit option. `docs/configuration.md` documents the same list; keep them together.
 */
import type { AppConfig } from './apps/config.js';
import type { Engine } from './engine/engine.js';
import { systemClock, type Clock } from './util/clock.js';
import { randomAlnum } from './util/ids.js';
import { silentLogger, type Logger } from './util/logger.js';

export interface ServerOptions {
  /** Apps with their keys, capabilities and namespaces. @default [] */
  apps?: AppConfig[];
  /** Age (ms) after which messages leave a channel's log (history, rewind, resume). @default 120000 */
  channelLogMaxAge?: number;
  /** Messages kept per channel log. @default 1000 */
  channelLogMaxCount?: number;
  /** Time source; tests pass a fake clock. @default the system clock */
  clock?: Clock;
  /** How long (ms) a connection's state outlives its transport, for resume. Sent in CONNECTED. @default 120000 */
  connectionStateTtl?: number;
  /** Shared state; the memory engine when not given. @default a MemoryEngine */
  engine?: Engine;
  /** Address to listen on. @default "127.0.0.1" */
  host?: string;
  /** Window (ms) within which a message `id` published again on a channel is dropped as a duplicate. @default 120000 */
  idempotencyWindow?: number;
  /** Extra full-capability keys, `appId.keyId:secret` (the app is created if needed). @default [] */
  keys?: string[];
  /** pino-compatible logger. @default a silent logger */
  logger?: Logger;
  /** Channel publishes one batch publish request (`POST /messages`) may make: specs × channels. @default 1000 */
  maxBatchChannels?: number;
  /** Longest channel name accepted (characters). @default 2048 */
  maxChannelNameLength?: number;
  /** Channels one connection may have attached at once (90010 past it). @default 1000 */
  maxChannelsPerConnection?: number;
  /** Largest WebSocket frame or comet body accepted (bytes). Sent in CONNECTED. @default 524288 */
  maxFrameSize?: number;
  /** Longest silence (ms) the server allows itself towards a client; heartbeats keep within it. Sent in CONNECTED. @default 15000 */
  maxIdleInterval?: number;
  /** Client ProtocolMessages waiting to be processed on one connection before it is failed. @default 1000 */
  maxInboundQueue?: number;
  /** Inbound messages per second advertised to clients in CONNECTED. @default 50 */
  maxInboundRate?: number;
  /** Largest publish (sum of the sizes of its messages, bytes). Sent in CONNECTED. @default 65536 */
  maxMessageSize?: number;
  /** Bytes that may wait in one connection's socket before it is dropped as a slow consumer. @default 8388608 */
  maxOutboundBuffer?: number;
  /** Largest REST request body accepted (bytes); 40009 (413) past it. @default 2097152 */
  maxRequestBodySize?: number;
  /** Age (ms) after which messages leave the log of a channel in a `persisted` namespace. @default 86400000 */
  persistedHistoryMaxAge?: number;
  /** Messages kept per channel in a `persisted` namespace. @default 10000 */
  persistedHistoryMaxCount?: number;
  /** Port to listen on (0 picks a free one). @default 8080 */
  port?: number;
  /** Most messages a `rewind=N` attach param may ask for. @default 100 */
  rewindMaxCount?: number;
  /** Sandbox mode: `POST /apps` creates apps (and `POST /stats` loads stats) for SDK test suites. @default false */
  sandbox?: boolean;
  /** How long (ms) a sandbox app lives unless deleted first. @default 86400000 */
  sandboxAppTtl?: number;
  /** Sandbox apps that may exist at once (40300 past it). @default 1000 */
  sandboxMaxApps?: number;
  /** This node's id, in CONNECTED and logs. @default "encke-" + random */
  serverId?: string;
  /** How often (ms) the node adds its stats counts to the engine (GET /stats adds the asking app's first). @default 5000 */
  statsFlushInterval?: number;
  /** Stats intervals kept per app and unit (minute, hour, day, month); the oldest go first. @default 10080 */
  statsMaxIntervals?: number;
}

export type ResolvedOptions = Required<Omit<ServerOptions, 'engine'>> & { engine?: Engine };

/** Defaults of every option that has a plain value. */
export const DEFAULTS = {
  channelLogMaxAge: 120_000,
  channelLogMaxCount: 1000,
  connectionStateTtl: 120_000,
  host: '127.0.0.1',
  idempotencyWindow: 120_000,
  maxBatchChannels: 1000,
  maxChannelNameLength: 2048,
  maxChannelsPerConnection: 1000,
  maxFrameSize: 524_288,
  maxIdleInterval: 15_000,
  maxInboundQueue: 1000,
  maxInboundRate: 50,
  maxMessageSize: 65_536,
  maxOutboundBuffer: 8 * 1024 * 1024,
  maxRequestBodySize: 2 * 1024 * 1024,
  persistedHistoryMaxAge: 86_400_000,
  persistedHistoryMaxCount: 10_000,
  port: 8080,
  rewindMaxCount: 100,
  sandbox: false,
  sandboxAppTtl: 86_400_000,
  sandboxMaxApps: 1000,
  statsFlushInterval: 5000,
  statsMaxIntervals: 10_080,
} as const satisfies Partial<ResolvedOptions>;

const POSITIVE_INTEGER_OPTIONS = [
  'channelLogMaxAge',
  'channelLogMaxCount',
  'connectionStateTtl',
  'idempotencyWindow',
  'maxBatchChannels',
  'maxChannelNameLength',
  'maxChannelsPerConnection',
  'maxFrameSize',
  'maxIdleInterval',
  'maxInboundQueue',
  'maxInboundRate',
  'maxMessageSize',
  'maxOutboundBuffer',
  'maxRequestBodySize',
  'persistedHistoryMaxAge',
  'persistedHistoryMaxCount',
  'rewindMaxCount',
  'sandboxAppTtl',
  'sandboxMaxApps',
  'statsFlushInterval',
  'statsMaxIntervals',
] as const;

/** Fills in defaults and checks values; throws an Error naming the bad option. */
export function resolveOptions(options: ServerOptions = {}): ResolvedOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as ServerOptions;
  const resolved = {
    ...DEFAULTS,
    apps: [],
    clock: systemClock,
    keys: [],
    logger: silentLogger,
    serverId: `encke-${randomAlnum(8)}`,
    ...defined,
  } as ResolvedOptions;
  for (const name of POSITIVE_INTEGER_OPTIONS) {
    const value = resolved[name];
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`Option ${name} must be a positive integer, got ${String(value)}`);
  }
  if (!Number.isSafeInteger(resolved.port) || resolved.port < 0 || resolved.port > 65535) {
    throw new Error(`Option port must be an integer from 0 to 65535, got ${String(resolved.port)}`);
  }
  if (resolved.maxMessageSize > resolved.maxFrameSize) {
    throw new Error('Option maxMessageSize must not exceed maxFrameSize');
  }
  if (resolved.maxMessageSize > resolved.maxRequestBodySize) {
    throw new Error('Option maxMessageSize must not exceed maxRequestBodySize');
  }
  if (typeof resolved.sandbox !== 'boolean') throw new Error(`Option sandbox must be true or false, got ${String(resolved.sandbox)}`);
  return resolved;
}
