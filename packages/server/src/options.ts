/**
 * Every option of the server in one place, alphabetical, each with its default. Every resource limit
 * is an explicit option. `docs/configuration.md` documents the same list; keep them together.
 */
import { readField } from '@encke/protocol';
import type { AppConfig } from './apps/config.js';
import type { Engine } from './engine/engine.js';
import { systemClock, type Clock } from './util/clock.js';
import { randomAlnum } from './util/ids.js';
import { silentLogger, type Logger } from './util/logger.js';

export interface ServerOptions {
  /**
   * The admin dashboard at `/admin`, protected by this password (at least 16 characters; give every
   * node of a cluster the same). Never logged; compared in constant time. @default none: no dashboard
   */
  adminPassword?: string;
  /** How often (ms) each node publishes its dashboard snapshot while a dashboard is open. @default 1000 */
  adminPublishInterval?: number;
  /**
   * With `redis`: the URL other nodes use to reach this one (comet requests for its connections are
   * forwarded there). @default scheme://host:port of the listener (the machine's hostname when listening on every interface)
   */
  advertiseUrl?: string;
  /** Apps with their keys, capabilities and namespaces. @default [] */
  apps?: AppConfig[];
  /** Age (ms) after which messages leave a channel's log (history, rewind, resume). @default 120000 */
  channelLogMaxAge?: number;
  /** Messages kept per channel log. @default 1000 */
  channelLogMaxCount?: number;
  /** Time source; tests pass a fake clock. @default the system clock */
  clock?: Clock;
  /**
   * The reconnect delay (ms) a comet recv framed as Server-Sent Events tells the browser to use
   * (`retry:`) after the stream ends; the browser then resumes it with Last-Event-ID. @default 1000
   */
  cometSseRetry?: number;
  /** How long (ms) a connection's state outlives its transport, for resume. Sent in CONNECTED. @default 120000 */
  connectionStateTtl?: number;
  /**
   * Serve the chat demo (examples/chat) at `/`, with its token endpoint `GET /demo/token` that hands
   * any visitor a token for the `chat:*` channels under a clientId of their choice. Off in
   * production; `encke serve` turns it on in development mode and with `--demo`. @default false
   */
  demo?: boolean;
  /** Directory of the built chat app (`index.html`, `chat.js`, …) the demo serves. @default none (`encke serve` gives examples/chat/dist of a clone) */
  demoAssets?: string;
  /** The key (`appId.keyId`) the demo's token endpoint issues tokens from. @default the first key of the first app */
  demoKey?: string;
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
  /**
   * Channels this node holds state for at once: attached here, or (memory engine) with a log or
   * presence members. Attaching to, publishing on or entering a new channel past it is refused with
   * 40114. @default 100000
   */
  maxChannels?: number;
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
   * opens the next one; well under the SDK's 90 s recvTimeout and most proxies' limits. Each stream
   * ends at random in the second half of it (streams opened together are not renewed all at once),
   * at the heartbeat visit after that, or, if it is still being written to, right after its next
   * batch (at most one more heartbeat interval). @default 30000
   */
  maxCometStreamDuration?: number;
  /**
   * Connections this node serves at once (connected, or kept for a resume). A new connection past
   * it gets DISCONNECTED with 50004 (the SDK retries later, or on another node). @default 100000
   */
  maxConnections?: number;
  /** Connections of one app on this node at once; a new one past it is refused with 40111 (fatal). @default 100000 */
  maxConnectionsPerApp?: number;
  /** Largest WebSocket frame accepted (bytes). Sent in CONNECTED. @default 524288 */
  maxFrameSize?: number;
  /**
   * Largest request head (request line with its query, plus headers) in bytes. Script-tag (JSONP)
   * clients send messages in the URL (`GET …/send?body=`), URL-encoded: room for a message of
   * maxMessageSize in any script. A bigger head is refused by Node (431). @default 262144
   */
  maxHeaderSize?: number;
  /** Longest silence (ms) the server allows itself towards a client; heartbeats keep within it. Sent in CONNECTED. @default 15000 */
  maxIdleInterval?: number;
  /**
   * Bytes a forever-iframe (htmlfile) recv document may grow to before the server ends it and the
   * page opens the next one, so the page does not hold an ever-growing document. @default 1048576
   */
  maxIframeBytes?: number;
  /** Client ProtocolMessages waiting to be processed on one connection before it is failed (reading pauses at half). @default 1000 */
  maxInboundQueue?: number;
  /** Inbound messages per second advertised to clients in CONNECTED. @default 50 */
  maxInboundRate?: number;
  /** Largest publish (sum of the sizes of its messages, bytes). Sent in CONNECTED. @default 65536 */
  maxMessageSize?: number;
  /** Bytes that may wait in one connection's socket before it is dropped as a slow consumer. @default 8388608 */
  maxOutboundBuffer?: number;
  /** Largest REST request body accepted (bytes); 40009 (413) past it. @default 2097152 */
  maxRequestBodySize?: number;
  /**
   * Longest life (ms) of a token from a key with `revocableTokens`: a TokenRequest's ttl is capped to
   * it, and a JWT older than this is expired. Revocations are kept this long. @default 3600000
   */
  maxRevocableTokenTtl?: number;
  /** Targets one `revokeTokens` request may name. @default 100 */
  maxRevocationTargets?: number;
  /** Longest ttl (ms) a TokenRequest may ask for (40003 past it). @default 86400000 */
  maxTokenTtl?: number;
  /** When set, `GET /metrics` needs `Authorization: Bearer <metricsToken>`. @default none (open) */
  metricsToken?: string;
  /** With `redis`: a node silent for this long (ms) is dead; its occupancy stops counting and its connections' members leave. @default 15000 */
  nodeTimeout?: number;
  /** Age (ms) after which messages leave the log of a channel in a `persisted` (or `mutableMessages`) namespace. @default 86400000 */
  persistedHistoryMaxAge?: number;
  /** Events kept per channel in a `persisted` (or `mutableMessages`) namespace. @default 10000 */
  persistedHistoryMaxCount?: number;
  /** Port to listen on (0 picks a free one). @default 8080 */
  port?: number;
  /** Presence members one channel may hold (91003 past it). @default 20000 */
  presenceMaxMembers?: number;
  /** Presence members all channels together may hold on this node (memory engine; 91003 past it). @default 1000000 */
  presenceMaxMembersTotal?: number;
  /** How long (ms) a member stays present after its transport drops abruptly, unless it resumes; clients may set `remainPresentFor`. @default 15000 */
  presenceRemainPresentFor?: number;
  /** Members per SYNC message after ATTACHED. @default 100 */
  presenceSyncPageSize?: number;
  /** Redis URL (`redis://[:password@]host:port[/db]`): run as one node of a cluster sharing that Redis. @default none (the memory engine) */
  redis?: string;
  /**
   * With `redis`: how long (ms) `listen()` keeps retrying an unreachable Redis at start before it
   * fails with one clear error (the CLI then exits with status 1). @default 10000
   */
  redisConnectTimeout?: number;
  /** Prefix of every Redis key and pub/sub channel, so that several deployments can share one Redis. @default "encke:" */
  redisPrefix?: string;
  /** Most messages a `rewind=N` attach param may ask for. @default 100 */
  rewindMaxCount?: number;
  /**
   * Sandbox mode: `POST /apps` creates apps (and `POST /stats` loads stats) for SDK test suites.
   * Unauthenticated by design, so it refuses to listen on anything but a loopback address unless
   * `sandboxPublic` is set. @default false
   */
  sandbox?: boolean;
  /** How long (ms) a sandbox app lives unless deleted first. @default 86400000 */
  sandboxAppTtl?: number;
  /** Sandbox apps that may exist at once (40300 past it). @default 1000 */
  sandboxMaxApps?: number;
  /** Largest body of a sandbox request (`POST /apps`, `POST /stats`; bytes); 40009 (413) past it. @default 65536 */
  sandboxMaxBodySize?: number;
  /**
   * Lets sandbox mode listen on a non-loopback address, where anyone who reaches the port can
   * create apps. @default false
   */
  sandboxPublic?: boolean;
  /** This node's id, in CONNECTED and logs. @default "encke-" + random */
  serverId?: string;
  /** How often (ms) the node adds its stats counts to the engine (GET /stats adds the asking app's first). @default 5000 */
  statsFlushInterval?: number;
  /** Stats intervals kept per app and unit (minute, hour, day, month); the oldest go first. @default 10080 */
  statsMaxIntervals?: number;
  /** PEM certificate chain: with `tlsKey`, the port serves HTTPS and WSS instead of HTTP and WS. @default none */
  tlsCert?: string | Buffer;
  /** PEM private key for `tlsCert`. @default none */
  tlsKey?: string | Buffer;
  /**
   * How far (ms) a signed TokenRequest's timestamp may be from the server's time (40104 past it);
   * its nonce is remembered that long after the timestamp, so it cannot be replayed. @default 600000
   */
  tokenRequestWindow?: number;
}

type OptionalOptions =
  | 'adminPassword'
  | 'advertiseUrl'
  | 'demoAssets'
  | 'demoKey'
  | 'engine'
  | 'tlsCert'
  | 'tlsKey'
  | 'redis'
  | 'metricsToken';

/** Values derived from the options when they are resolved (not settable themselves). */
export interface DerivedOptions {
  /**
   * How often (ms) the node visits every transport: a silent one gets a ping or HEARTBEAT at that
   * pace, and one silent for `maxIdleInterval` plus this is gone. A third of `maxIdleInterval`,
   * at least 50.
   */
  readonly heartbeatInterval: number;
}

export type ResolvedOptions = Required<Omit<ServerOptions, OptionalOptions>> &
  Pick<ServerOptions, OptionalOptions> &
  DerivedOptions;

/** Shortest heartbeat interval (ms), whatever `maxIdleInterval` is. */
const MIN_HEARTBEAT_INTERVAL = 50;

/** Defaults of every option that has a plain value. */
export const DEFAULTS = {
  adminPublishInterval: 1000,
  channelLogMaxAge: 120_000,
  channelLogMaxCount: 1000,
  cometSseRetry: 1000,
  connectionStateTtl: 120_000,
  demo: false,
  host: '127.0.0.1',
  idempotencyWindow: 120_000,
  maxBatchChannels: 1000,
  maxChannelNameLength: 2048,
  maxChannels: 100_000,
  maxChannelsPerConnection: 1000,
  maxCometBodySize: 2 * 1024 * 1024,
  maxCometQueue: 5000,
  maxCometStreamDuration: 30_000,
  maxConnections: 100_000,
  maxConnectionsPerApp: 100_000,
  maxFrameSize: 524_288,
  maxHeaderSize: 262_144,
  maxIdleInterval: 15_000,
  maxIframeBytes: 1_048_576,
  maxInboundQueue: 1000,
  maxInboundRate: 50,
  maxMessageSize: 65_536,
  maxOutboundBuffer: 8 * 1024 * 1024,
  maxRequestBodySize: 2 * 1024 * 1024,
  maxRevocableTokenTtl: 3_600_000,
  maxRevocationTargets: 100,
  maxTokenTtl: 86_400_000,
  nodeTimeout: 15_000,
  persistedHistoryMaxAge: 86_400_000,
  persistedHistoryMaxCount: 10_000,
  port: 8080,
  presenceMaxMembers: 20_000,
  presenceMaxMembersTotal: 1_000_000,
  presenceRemainPresentFor: 15_000,
  presenceSyncPageSize: 100,
  redisConnectTimeout: 10_000,
  redisPrefix: 'encke:',
  rewindMaxCount: 100,
  sandbox: false,
  sandboxAppTtl: 86_400_000,
  sandboxMaxApps: 1000,
  sandboxMaxBodySize: 65_536,
  sandboxPublic: false,
  statsFlushInterval: 5000,
  statsMaxIntervals: 10_080,
  tokenRequestWindow: 600_000,
} as const satisfies Partial<ResolvedOptions>;

const POSITIVE_INTEGER_OPTIONS = [
  'adminPublishInterval',
  'channelLogMaxAge',
  'channelLogMaxCount',
  'cometSseRetry',
  'connectionStateTtl',
  'idempotencyWindow',
  'maxBatchChannels',
  'maxChannelNameLength',
  'maxChannels',
  'maxChannelsPerConnection',
  'maxCometBodySize',
  'maxCometQueue',
  'maxCometStreamDuration',
  'maxConnections',
  'maxConnectionsPerApp',
  'maxFrameSize',
  'maxHeaderSize',
  'maxIdleInterval',
  'maxIframeBytes',
  'maxInboundQueue',
  'maxInboundRate',
  'maxMessageSize',
  'maxOutboundBuffer',
  'maxRequestBodySize',
  'maxRevocableTokenTtl',
  'maxRevocationTargets',
  'maxTokenTtl',
  'nodeTimeout',
  'persistedHistoryMaxAge',
  'persistedHistoryMaxCount',
  'presenceMaxMembers',
  'presenceMaxMembersTotal',
  'presenceSyncPageSize',
  'redisConnectTimeout',
  'rewindMaxCount',
  'sandboxAppTtl',
  'sandboxMaxApps',
  'sandboxMaxBodySize',
  'statsFlushInterval',
  'statsMaxIntervals',
  'tokenRequestWindow',
] as const;

/** Fills in defaults and checks values; throws an Error naming the bad option. */
export function resolveOptions(options: ServerOptions = {}): ResolvedOptions {
  const resolved: Omit<ResolvedOptions, keyof DerivedOptions> = {
    ...DEFAULTS,
    apps: [],
    clock: systemClock,
    keys: [],
    logger: silentLogger,
    serverId: `encke-${randomAlnum(8)}`,
    ...definedOptions(options),
  };
  for (const name of POSITIVE_INTEGER_OPTIONS) {
    const value = resolved[name];
    if (!Number.isSafeInteger(value) || value <= 0)
      throw new Error(`Option ${name} must be a positive integer, got ${String(value)}`);
  }
  if (!Number.isSafeInteger(resolved.presenceRemainPresentFor) || resolved.presenceRemainPresentFor < 0) {
    throw new Error(
      `Option presenceRemainPresentFor must be an integer >= 0, got ${String(resolved.presenceRemainPresentFor)}`,
    );
  }
  if (!Number.isSafeInteger(resolved.port) || resolved.port < 0 || resolved.port > 65535) {
    throw new Error(`Option port must be an integer from 0 to 65535, got ${String(resolved.port)}`);
  }
  if (resolved.maxMessageSize > resolved.maxFrameSize) {
    throw new Error('Option maxMessageSize must not exceed maxFrameSize');
  }
  if ((resolved.tlsCert === undefined) !== (resolved.tlsKey === undefined)) {
    throw new Error('Options tlsCert and tlsKey must be given together');
  }
  if (resolved.maxMessageSize > resolved.maxCometBodySize) {
    throw new Error('Option maxMessageSize must not exceed maxCometBodySize');
  }
  if (resolved.maxMessageSize > resolved.maxRequestBodySize) {
    throw new Error('Option maxMessageSize must not exceed maxRequestBodySize');
  }
  checkWebOptions(resolved);
  for (const name of ['sandbox', 'sandboxPublic'] as const) {
    if (typeof resolved[name] !== 'boolean')
      throw new Error(`Option ${name} must be true or false, got ${String(resolved[name])}`);
  }
  if (resolved.sandbox && !resolved.sandboxPublic && !isLoopbackHost(resolved.host)) {
    throw new Error(
      `Sandbox mode is unauthenticated: it listens only on a loopback address (127.0.0.1, ::1, localhost), not ${resolved.host}; set sandboxPublic (--sandbox-public) to expose it anyway`,
    );
  }
  return { ...resolved, heartbeatInterval: Math.max(MIN_HEARTBEAT_INTERVAL, Math.floor(resolved.maxIdleInterval / 3)) };
}

/** The options given, less those set to undefined (so that they take their defaults). */
function definedOptions(options: ServerOptions): ServerOptions {
  const defined = { ...options };
  for (const name of Object.keys(defined))
    if (readField(defined, name) === undefined) Reflect.deleteProperty(defined, name);
  return defined;
}

/** Shortest admin password: it guards every app's names, keys (not secrets) and traffic figures. */
export const MIN_ADMIN_PASSWORD_LENGTH = 16;

/** The dashboard and demo options: types, and an admin password long enough to resist guessing. */
function checkWebOptions(o: Omit<ResolvedOptions, keyof DerivedOptions>): void {
  if (typeof o.demo !== 'boolean') throw new Error(`Option demo must be true or false, got ${String(o.demo)}`);
  for (const name of ['adminPassword', 'demoAssets', 'demoKey'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'string') throw new Error(`Option ${name} must be a string`);
  }
  if (o.adminPassword !== undefined && o.adminPassword.length < MIN_ADMIN_PASSWORD_LENGTH) {
    throw new Error(`Option adminPassword must be at least ${MIN_ADMIN_PASSWORD_LENGTH} characters`);
  }
}

/** Whether `host` names only this machine: 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}
