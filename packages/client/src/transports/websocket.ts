/**
 * WebSocket transport: one ProtocolMessage per frame, text for JSON, binary for msgpack. The URL
 * is `ws[s]://host:port/?<connect params>`; the server speaks first (CONNECTED or ERROR).
 */
import type { ProtocolMessage } from '@encke/protocol/types';
import type { ErrorInfo } from '../errors.js';
import type { WebSocketConstructor } from '../options.js';
import { closeOutcome, CloseCode } from './close-codes.js';
import type { Transport, TransportContext, TransportSink } from './transport.js';

/** How long close() waits for CLOSED before dropping the socket. */
const CLOSE_WAIT_MS = 1_000;

function constructorFor(ctx: TransportContext): WebSocketConstructor | undefined {
  return ctx.options.webSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}

export function supported(ctx: TransportContext): boolean {
  return constructorFor(ctx) !== undefined;
}

export function create(ctx: TransportContext, sink: TransportSink): Transport {
  return new WebSocketTransport(ctx, sink);
}

/** Node's `ws` says "Unexpected server response: 401" when the upgrade is refused with a status. */
function refusedStatus(event: Event): number | undefined {
  const message = (event as { message?: unknown }).message;
  const m = typeof message === 'string' ? /server response: (\d{3})/.exec(message) : null;
  return m ? Number(m[1]) : undefined;
}

class WebSocketTransport implements Transport {
  readonly name = 'web_socket' as const;
  private readonly ws: WebSocket;
  private done = false;
  private opened = false;
  private closing = false;
  private refused: number | undefined;

  constructor(
    private readonly ctx: TransportContext,
    private readonly sink: TransportSink,
  ) {
    const { Err, ErrorInfo } = ctx.kit;
    const Ctor = constructorFor(ctx);
    if (!Ctor) throw ErrorInfo.of(Err.connectionFailed, 'No WebSocket in this runtime');
    const url = ctx.kit.withQuery(ctx.baseUrl.replace(/^http/, 'ws') + '/', ctx.params);
    this.ws = new Ctor(url);
    this.ws.binaryType = 'arraybuffer';
    this.ws.onopen = () => {
      this.opened = true;
    };
    this.ws.onmessage = (ev: MessageEvent) => this.receive(ev.data as string | ArrayBuffer);
    this.ws.onerror = (ev: Event) => {
      this.refused ??= refusedStatus(ev);
    };
    this.ws.onclose = (ev: CloseEvent) => this.closed(ev.code, ev.reason);
  }

  send(pm: ProtocolMessage): void {
    if (this.done || this.ws.readyState !== 1) return;
    this.ws.send(this.ctx.codec.encode(pm));
  }

  close(): void {
    if (this.done) return;
    this.closing = true;
    this.send({ action: this.ctx.kit.Action.CLOSE });
    // CLOSED normally arrives first and ends the socket; this only bounds the wait.
    this.ctx.options.clock.setTimeout(() => this.drop(), CLOSE_WAIT_MS);
  }

  disconnect(): void {
    if (this.done) return;
    this.closing = true;
    this.drop();
  }

  private drop(): void {
    if (this.done) return;
    this.finish(undefined);
    try {
      this.ws.close(CloseCode.NORMAL);
    } catch {
      // already closing
    }
  }

  private receive(data: string | ArrayBuffer): void {
    if (this.done) return;
    let pm: ProtocolMessage;
    try {
      pm = this.ctx.codec.decode(data);
    } catch (err) {
      this.finish(this.ctx.kit.ErrorInfo.from(err), true);
      this.ws.close(CloseCode.PROTOCOL_ERROR);
      return;
    }
    this.sink.onMessage(pm);
    if (pm.action === this.ctx.kit.Action.CLOSED && this.closing) this.drop();
  }

  private closed(code: number, reason: string): void {
    if (this.done) return;
    const { Err, ErrorInfo } = this.ctx.kit;
    if (!this.opened) {
      // Refused before any handshake: a 401 is an auth failure (final); anything else, or no
      // status at all (browsers hide it), is a transport failure and the next transport is tried.
      const status = this.refused;
      if (status === 401) this.finish(ErrorInfo.of(Err.unauthorized, 'WebSocket refused with 401'), true);
      else this.finish(ErrorInfo.of(Err.disconnected, `WebSocket connection failed${status ? ` (HTTP ${status})` : ''}`));
      return;
    }
    if (this.closing && code === CloseCode.NORMAL) return this.finish(undefined);
    const outcome = closeOutcome(this.ctx.kit, code, reason);
    this.finish(outcome.error, outcome.state === 'failed');
  }

  private finish(err: ErrorInfo | undefined, fatal?: boolean): void {
    if (this.done) return;
    this.done = true;
    this.ws.onmessage = null;
    this.sink.onClose(err, fatal);
  }
}
