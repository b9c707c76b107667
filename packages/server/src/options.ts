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
  /** Longest channel name accepted (characters). @default 2048 */
  maxChannelNameLength?: number;
  /** Channels one connection may have attached at once (90010 past it). @default 1000 */
  maxChannelsPerConnection?: number;
  /**
   * Largest comet send body accepted (bytes; also the `body` query parameter of a GET send). The
   * SDK batches everything it queued during the previous send into one body, so this is several
   * frames' worth. @default 2097152
   */
  maxCometBodySize?: number;
  /**
   * Frames that may wait for a comet connection's next recv; past it the connection is dropped as
   * a slow consumer (the client resumes and the channel logs replay what it missed). @default 5000
   */
  maxCometQueue?: number;
  /**
   * Longest time (ms) a streaming comet recv is held open before the server ends it and the client
   * opens the next one; well under the SDK's 90 s recvTimeout and most proxies' limits. @default 30000
   */
  maxCometStreamDuration?: number;
  /** Largest WebSocket frame accepted (bytes). Sent in CONNECTED. @default 524288 */
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
  /** Port to listen on (0 picks a free one). @default 8080 */
  port?: number;
  /** Most messages a `rewind=N` attach param may ask for. @default 100 */
  rewindMaxCount?: number;
  /** This node's id, in CONNECTED and logs. @default "encke-" + random */
  serverId?: string;
}

export type ResolvedOptions = Required<Omit<ServerOptions, 'engine'>> & { engine?: Engine };

/** Defaults of every option that has a plain value. */
export const DEFAULTS = {
  channelLogMaxAge: 120_000,
  channelLogMaxCount: 1000,
  connectionStateTtl: 120_000,
  host: '127.0.0.1',
  idempotencyWindow: 120_000,
  maxChannelNameLength: 2048,
  maxChannelsPerConnection: 1000,
  maxCometBodySize: 2 * 1024 * 1024,
  maxCometQueue: 5000,
  maxCometStreamDuration: 30_000,
  maxFrameSize: 524_288,
  maxIdleInterval: 15_000,
  maxInboundQueue: 1000,
  maxInboundRate: 50,
  maxMessageSize: 65_536,
  maxOutboundBuffer: 8 * 1024 * 1024,
  port: 8080,
  rewindMaxCount: 100,
} as const satisfies Partial<ResolvedOptions>;

const POSITIVE_INTEGER_OPTIONS = [
  'channelLogMaxAge',
  'channelLogMaxCount',
  'connectionStateTtl',
  'idempotencyWindow',
  'maxChannelNameLength',
  'maxChannelsPerConnection',
  'maxCometBodySize',
  'maxCometQueue',
  'maxCometStreamDuration',
  'maxFrameSize',
  'maxIdleInterval',
  'maxInboundQueue',
  'maxInboundRate',
  'maxMessageSize',
  'maxOutboundBuffer',
  'rewindMaxCount',
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
  if (resolved.maxMessageSize > resolved.maxCometBodySize) {
    throw new Error('Option maxMessageSize must not exceed maxCometBodySize');
  }
  return resolved;
}
