/**
 * The seam between the connection manager and a transport. A transport carries ProtocolMessages
 * both ways and reports, exactly once, that it is gone; it never decides connection state.
 * Each transport is its own module, loaded only when it is tried.
 */
import type { ProtocolMessage } from '@encke/protocol/types';
import type { Codec } from '../codec/codec.js';
import type { Kit } from '../kit.js';
import type { ErrorInfo } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import type { HttpContext } from '../util/http.js';
import type { Attempt, TransportName } from './names.js';

export interface TransportContext {
  /** The core's shared helpers (errors, HTTP, constants): transports import only types. */
  readonly kit: Kit;
  readonly options: ResolvedOptions;
  readonly codec: Codec;
  readonly http: HttpContext;
  /** Query params of the connect request: auth, format, heartbeats, echo, clientId, v, resume/recover. */
  readonly params: Record<string, string>;
  /** `http[s]://host:port`. */
  readonly baseUrl: string;
  /** The credentials params as they are now (tokens renew): for every comet request after connect. */
  authParams(): Record<string, string>;
}

export interface TransportSink {
  /** Every ProtocolMessage from the server, in order (CONNECTED first). */
  onMessage(pm: ProtocolMessage): void;
  /**
   * The transport is gone, with why (undefined after a clean close we asked for). Called once.
   * `fatal`: the connection must fail (e.g. a WebSocket close code that means so); otherwise the
   * manager decides from the error.
   */
  onClose(err: ErrorInfo | undefined, fatal?: boolean): void;
}

export interface Transport {
  readonly name: TransportName;
  send(pm: ProtocolMessage): void;
  /** Ends the connection in an orderly way: CLOSE then wait briefly for CLOSED (WebSocket), `/close` (comet). */
  close(): void;
  /** Cancels the transport at once and issues nothing more; the connection stays resumable. */
  disconnect(): void;
}

export interface TransportModule {
  /** Whether this runtime can use the transport at all (e.g. no WebSocket, no document for iframes). */
  supported(ctx: TransportContext): boolean;
  create(ctx: TransportContext, sink: TransportSink): Transport;
}

/** Each transport's module, imported on first use; every one exports `load()`. */
const MODULES: Record<Attempt, () => Promise<{ load(): Promise<TransportModule> }>> = {
  web_socket: () => import('./websocket.js'),
  xhr_streaming: () => import('./streaming.js'),
  xhr_polling: () => import('./comet.js'),
  polling: () => import('./polling.js'),
  sse: () => import('./sse.js'),
  jsonp: () => import('./jsonp.js'),
  iframe: () => import('./iframe.js'),
  multipart: () => import('./multipart.js'),
  shared: () => import('../shared/tab.js'),
};

/** Loads a transport's module on first use. */
export function loadTransport(name: Attempt): Promise<TransportModule> {
  return MODULES[name]().then((m) => m.load());
}
