/**
 * WebSocket transport: one ProtocolMessage per frame, text for JSON, binary for msgpack. The URL
 * is `ws[s]://host:port/?<connect params>`; the server speaks first (CONNECTED or ERROR).
 */
import type { ProtocolMessage } from '@encke/protocol/types';
import type { ErrorInfo } from '../errors.js';
import type { WebSocketConstructor } from '../options.js';
import { closeOutcome, NORMAL, PROTOCOL_ERROR } from './close-codes.js';
import type { Transport, TransportContext, TransportModule, TransportSink } from './transport.js';

/** How long close() waits for CLOSED before dropping the socket. */
const CLOSE_WAIT_MS = 1_000;

export async function load(): Promise<TransportModule> {
  return {
    supported: (ctx) => ctx.options.webSocket !== undefined,
    create: (ctx, sink) => new WebSocketTransport(ctx, sink),
  };
}

class WebSocketTransport implements Transport {
  readonly name = 'web_socket' as const;
  private readonly ws: WebSocket;
  private done = false;
  private opened = false;
  private closing = false;

  constructor(
    private readonly ctx: TransportContext,
    private readonly sink: TransportSink,
  ) {
    // Only created when supported(ctx): the option is the runtime's WebSocket unless one was given.
    const Ctor = ctx.options.webSocket as WebSocketConstructor;
    const url = ctx.kit.withQuery(ctx.baseUrl.replace(/^http/, 'ws') + '/', ctx.params);
    this.ws = new Ctor(url);
    this.ws.binaryType = 'arraybuffer';
    this.ws.onopen = () => {
      this.opened = true;
    };
    // binaryType 'arraybuffer': a frame's data is a string (text) or an ArrayBuffer (binary).
    this.ws.onmessage = (ev: MessageEvent<string | ArrayBuffer>) => this.receive(ev.data);
    this.ws.onclose = (ev: CloseEvent) => this.closed(ev.code, ev.reason);
  }

  send(pm: ProtocolMessage): void {
    if (this.done || this.ws.readyState !== 1) return;
    this.ws.send(this.ctx.codec.encode(pm));
  }

  close(): void {
    this.send({ action: this.ctx.kit.Action.CLOSE });
    // The manager drops the socket on CLOSED; this only bounds the wait for it.
    this.ctx.options.clock.setTimeout(() => this.disconnect(), CLOSE_WAIT_MS);
  }

  disconnect(): void {
    if (this.done) return;
    this.closing = true;
    this.finish(undefined);
    try {
      this.ws.close(NORMAL);
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
      this.ws.close(PROTOCOL_ERROR);
      return;
    }
    this.sink.onMessage(pm);
  }

  private closed(code: number, reason: string): void {
    if (this.done) return;
    const { Err, ErrorInfo } = this.ctx.kit;
    if (!this.opened) {
      // Refused before any handshake: a 401 is an auth failure (final); anything else, or no
      // status at all (browsers hide it; the Node entry records it), is a transport failure and
      // the next transport is tried.
      const status = (this.ws as { refusedStatus?: number }).refusedStatus;
      if (status === 401) this.finish(ErrorInfo.of(Err.unauthorized, 'WebSocket refused with 401'), true);
      else
        this.finish(ErrorInfo.of(Err.disconnected, `WebSocket connection failed${status ? ` (HTTP ${status})` : ''}`));
      return;
    }
    if (this.closing) return this.finish(undefined);
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
