/**
 * Client options: the shapes ably-js users know (`key`, `authCallback`, `endpoint`, `port`, `tls`,
 * `transports`, `useBinaryProtocol`, …) plus encke's own (stall detection, tab sharing). Every
 * field is optional; `resolveOptions` fills the defaults.
 */
import type { EntriesOf } from './util/unknown.js';
import type { Clock } from './util/clock.js';
import { realClock } from './util/clock.js';
import type { AuthCallback, TokenDetails, TokenParams } from './auth/types.js';
import type { TransportName } from './transports/names.js';
import type { TransportModule } from './transports/transport.js';

/** A WebSocket constructor with the browser API (the browser's own, or the `ws` package in Node). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocket;

export interface ClientOptions {
  /** An API key `appId.keyId:secret`: basic auth, or signs token requests with `useTokenAuth`. */
  key?: string;
  /** A token string or TokenDetails: token auth without renewal unless a renewal method is given too. */
  token?: string | TokenDetails;
  /** Called for a token, TokenDetails or signed TokenRequest whenever one is needed (connect, expiry, AUTH). */
  authCallback?: AuthCallback;
  /** A URL that answers a token, TokenDetails or TokenRequest (JSON or text). */
  authUrl?: string;
  /** @default 'GET' */
  authMethod?: 'GET' | 'POST';
  /** Extra query params (GET) or form fields (POST) for `authUrl`. */
  authParams?: Record<string, string>;
  /** Extra headers for `authUrl`. */
  authHeaders?: Record<string, string>;
  /** Token params for token requests (`ttl`, `capability`, `clientId`). */
  defaultTokenParams?: TokenParams;
  /** With a `key`, use tokens signed from it instead of basic auth. @default false */
  useTokenAuth?: boolean;
  /** The client's identity: sent as `clientId` (basic auth) and as the clientId of token requests. */
  clientId?: string;

  /** The server host; `realtimeHost` and `restHost` are accepted as aliases. @default 'localhost' */
  endpoint?: string;
  realtimeHost?: string;
  restHost?: string;
  /** Port for plain connections. @default 8080 for localhost and 127.0.0.1, else 80 */
  port?: number;
  /** Port for TLS connections. @default 443 */
  tlsPort?: number;
  /** Use `wss:` / `https:`. @default true, except for `localhost` and `127.0.0.1` */
  tls?: boolean;

  /**
   * Transports to try, in order. Names: `web_socket`, `xhr_streaming` (fetch/XHR streaming),
   * `xhr_polling` (long-polling), `polling` (plain polling), `sse`, `jsonp`, `iframe`, `multipart`.
   * @default the best for the environment: ['web_socket', 'xhr_streaming', 'xhr_polling']
   */
  transports?: TransportName[];
  /** MessagePack on the wire instead of JSON. @default false */
  useBinaryProtocol?: boolean;
  /** Extra query params on every connection request. */
  transportParams?: Record<string, string | number | boolean>;
  /** Connect when constructed. @default true */
  autoConnect?: boolean;
  /** Whether the server echoes this connection's own messages. @default true */
  echoMessages?: boolean;
  /** Queue publishes made while connecting or disconnected. @default true */
  queueMessages?: boolean;
  /** A recovery key from `connection.createRecoveryKey()` (e.g. saved across a page reload). */
  recover?: string;
  /** Browsers: close the connection when the page unloads. @default true, false with `recover` */
  closeOnUnload?: boolean;

  /** Wait after a disconnection before reconnecting (then backoff and jitter, RTB1). @default 15000 */
  disconnectedRetryTimeout?: number;
  /** Wait between attempts while suspended. @default 30000 */
  suspendedRetryTimeout?: number;
  /** Wait for a channel re-attach after a failed attach. @default 15000 */
  channelRetryTimeout?: number;
  /** Deadline of a request that expects an answer (CONNECTED, ATTACHED, CLOSED, ping). @default 10000 */
  realtimeRequestTimeout?: number;
  /** A transport with no CONNECTED within this long is stalled (e.g. a buffering proxy): try the next. @default 4000 */
  transportStallTimeout?: number;
  /** Used until the server's CONNECTED says otherwise. @default 120000 */
  connectionStateTtl?: number;
  /** `xhr_streaming` reads the body with fetch streams, or XMLHttpRequest progress events. @default 'fetch' where the runtime has streams */
  streamingWith?: 'fetch' | 'xhr';
  /** Plain polling: wait between polls. @default 1000 */
  pollInterval?: number;
  /** Remember the transport that worked for a host (localStorage in browsers). @default true */
  rememberTransport?: boolean;

  /**
   * Browsers: the tabs of this origin with the same options share one connection (docs/client.md
   * "One connection per browser"); each tab keeps its own channels, subscriptions and presence
   * identity. `true`: a SharedWorker when `sharedWorkerUrl` is given and the browser has one, else a
   * leader tab elected over BroadcastChannel and Web Locks that hands over when it closes; `'leader'`:
   * always a leader tab. The sharing code is a module of its own, loaded only when this is set.
   * @default false
   */
  shareConnection?: boolean | 'leader';
  /** The URL of the bundled `@encke/client/shared-worker` module, for `shareConnection` with a SharedWorker. */
  sharedWorkerUrl?: string;

  /** Transport implementations used instead of the built-in ones, by name (custom transports, tests). */
  transportImplementations?: Partial<Record<TransportName, TransportModule>>;
  /** The WebSocket implementation (Node < 22 gets `ws` from the Node entry). */
  webSocket?: WebSocketConstructor;
  /** The fetch implementation. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Time source and timers (tests pass a fake clock). @default the real clock */
  clock?: Clock;
  /** Accepted for ably-js compatibility; this client does not log (errors reach the application as ErrorInfo). */
  logLevel?: number;
}

export interface ResolvedOptions extends ClientOptions {
  host: string;
  tls: boolean;
  port: number;
  transports: TransportName[] | undefined;
  format: 'json' | 'msgpack';
  autoConnect: boolean;
  echoMessages: boolean;
  queueMessages: boolean;
  closeOnUnload: boolean;
  disconnectedRetryTimeout: number;
  suspendedRetryTimeout: number;
  channelRetryTimeout: number;
  realtimeRequestTimeout: number;
  transportStallTimeout: number;
  connectionStateTtl: number;
  pollInterval: number;
  rememberTransport: boolean;
  clock: Clock;
  logLevel: number;
}

/** Every default of a plain option (the host, port and TLS defaults depend on each other, below). */
export const DEFAULTS = {
  autoConnect: true,
  echoMessages: true,
  queueMessages: true,
  closeOnUnload: true,
  rememberTransport: true,
  disconnectedRetryTimeout: 15_000,
  suspendedRetryTimeout: 30_000,
  channelRetryTimeout: 15_000,
  realtimeRequestTimeout: 10_000,
  transportStallTimeout: 4_000,
  connectionStateTtl: 120_000,
  pollInterval: 1_000,
  logLevel: 1,
  clock: realClock,
};

const isLocal = (host: string): boolean => host === 'localhost' || host === '127.0.0.1' || host === '[::1]';

/** Options as a string (a key or a token) or an object, with every default filled in. */
export function resolveOptions(input: ClientOptions | string): ResolvedOptions {
  const o: ClientOptions =
    typeof input === 'string' ? (input.includes(':') ? { key: input } : { token: input }) : input;
  const given = Object.fromEntries(
    (Object.entries as EntriesOf)(o).filter(([, v]) => v !== undefined),
  ) as ClientOptions;
  const host = o.endpoint ?? o.realtimeHost ?? o.restHost ?? 'localhost';
  const tls = o.tls ?? !isLocal(host);
  // Plain connections default to 8080 on this machine (encke's default port), 80 elsewhere.
  const port = tls ? (o.tlsPort ?? 443) : (o.port ?? (isLocal(host) ? 8080 : 80));
  // A page that recovers its connection after a reload must not close it on unload.
  const closeOnUnload = o.closeOnUnload ?? o.recover === undefined;
  return {
    ...DEFAULTS,
    ...given,
    host,
    tls,
    port,
    closeOnUnload,
    transports: o.transports,
    format: o.useBinaryProtocol ? 'msgpack' : 'json',
  };
}
