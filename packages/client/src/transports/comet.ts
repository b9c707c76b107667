/**
 * The comet transport family over `/comet/*` (docs/protocol.md "Comet"): a connect request that is
 * also the first recv, then one recv at a time, and at most one send pending with everything
 * written meanwhile queued and sent together next. Replies come down the recv. How a recv is read
 * (held and streamed, long-polled, plainly polled, as SSE, JSONP, iframe or multipart) is the
 * only difference between the techniques, supplied by a Receiver. Long-polling (`xhr_polling`)
 * is this module's own transport; the others import the base from here.
 */
import type { ProtocolMessage } from '@encke/protocol/types';
import type { ErrorInfo } from '../errors.js';
import type { TransportName } from './names.js';
import type { Transport, TransportContext, TransportModule, TransportSink } from './transport.js';

/** No deadline of our own on a held recv: the connection's idle timer notices a dead one. */
const RECV_TIMEOUT_MS = 2 ** 31 - 1;

export interface Receiver {
  /** Params added to the connect request (e.g. `stream=false`). */
  readonly connectParams: Record<string, string>;
  /** Params added to each recv. */
  readonly recvParams?: Record<string, string>;
  /** Waits this long between recvs (plain polling). */
  readonly interval?: number;
  /**
   * One recv: yields each batch as it arrives, returns when the response has ended. The answer's
   * position (acknowledged polling, `ack: '0'` in connectParams: X-Encke-Position) goes to `at`.
   */
  read(
    url: string,
    signal: AbortSignal,
    at: (position: string | null | undefined) => void,
  ): AsyncIterable<ProtocolMessage[], void, undefined>;
}

export interface CometConfig {
  name: TransportName;
  receiver: Receiver;
  /** Sends by GET with `?body=` (JSON) for techniques that cannot POST (JSONP). */
  getSends?: boolean;
  /** Makes a send or close request instead of fetch (JSONP: a script tag); rejects on failure. */
  request?: (url: string, signal: AbortSignal) => Promise<void>;
}

export class CometTransport implements Transport {
  readonly name: TransportName;
  private key: string | undefined;
  /** The position of the last answer received (acknowledged polling): the next recv confirms it (`ack`). */
  private ack: string | null | undefined;
  private done = false;
  private queue: ProtocolMessage[] = [];
  private sending = false;
  private closeRequested = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly ctx: TransportContext,
    private readonly sink: TransportSink,
    private readonly config: CometConfig,
  ) {
    this.name = config.name;
    void this.recvLoop();
  }

  send(pm: ProtocolMessage): void {
    if (this.done) return;
    this.queue.push(pm);
    this.flush();
  }

  close(): void {
    if (this.done) return;
    this.closeRequested = true;
    this.flush();
  }

  disconnect(): void {
    this.finish(undefined);
  }

  private url(op: string, extra?: Record<string, string>): string {
    return this.ctx.kit.withQuery(`${this.ctx.baseUrl}/comet/${this.key ?? ''}/${op}`, {
      ...this.ctx.authParams(),
      ...extra,
    });
  }

  private async recvLoop(): Promise<void> {
    const r = this.config.receiver;
    const { Action, Err, ErrorInfo, withQuery } = this.ctx.kit;
    let url = withQuery(`${this.ctx.baseUrl}/comet/connect`, { ...this.ctx.params, ...r.connectParams });
    while (!this.done) {
      try {
        for await (const batch of r.read(url, this.abort.signal, (p) => (this.ack = p ?? this.ack))) {
          for (const pm of batch) {
            if (this.done) return;
            if (pm.action === Action.CONNECTED && pm.connectionDetails) this.key = pm.connectionDetails.connectionKey;
            this.sink.onMessage(pm);
            if (pm.action === Action.CLOSED || pm.action === Action.DISCONNECTED) return this.finish(undefined);
          }
        }
      } catch (err) {
        return this.finish(ErrorInfo.from(err, Err.disconnected));
      }
      if (this.done) return;
      if (!this.key) return this.finish(ErrorInfo.of(Err.disconnected, 'Comet connect ended without CONNECTED'));
      if (r.interval) await this.sleep(r.interval);
      url = this.url('recv', this.ack ? { ...r.recvParams, ack: this.ack } : r.recvParams);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.ctx.options.clock.setTimeout(resolve, ms));
  }

  /** At most one send pending: what is written meanwhile goes in the next one, in order; CLOSE last. */
  private flush(): void {
    if (this.sending || this.done || !this.key) return;
    if (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      this.sending = true;
      void this.post(batch).finally(() => {
        this.sending = false;
        this.flush();
      });
    } else if (this.closeRequested) {
      this.sending = true;
      // keepalive: a close sent as the page goes away (pagehide) still reaches the server.
      void this.request(this.url('close'), { keepalive: true }).then(() => this.finish(undefined));
    }
  }

  private post(batch: ProtocolMessage[]): Promise<void> {
    if (this.config.getSends) return this.request(this.url('send', { body: JSON.stringify(batch) }));
    const body = this.ctx.codec.encodeBatch(batch);
    return this.request(this.url('send'), {
      method: 'POST',
      headers: { 'content-type': this.ctx.codec.contentType },
      body,
    });
  }

  private async request(
    url: string,
    init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array; keepalive?: boolean } = {},
  ): Promise<void> {
    const { kit } = this.ctx;
    try {
      if (this.config.request) return await this.config.request(url, this.abort.signal);
      const res = await kit.send(this.ctx.http, url, {
        ...init,
        timeoutMs: this.ctx.options.realtimeRequestTimeout,
        signal: this.abort.signal,
      });
      const text = await res.text();
      if (!res.ok) this.finish(kit.errorOf(res, text));
    } catch (err) {
      this.finish(kit.ErrorInfo.from(err, kit.Err.disconnected));
    }
  }

  private finish(err: ErrorInfo | undefined): void {
    if (this.done) return;
    this.done = true;
    this.abort.abort();
    this.sink.onClose(err);
  }
}

/** The chunks of a fetch response body, as they arrive. */
export async function* bodyChunks(body: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array, void, undefined> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array, void, undefined> {
  yield bytes;
}

/**
 * Opens a recv with fetch and returns its body as it arrives. An HTTP error whose body is still an
 * array of ProtocolMessages is read as one (a fatal ERROR comes with its status); any other HTTP
 * error is the failure reason.
 */
export async function recvChunks(
  ctx: TransportContext,
  url: string,
  signal: AbortSignal,
  at?: (position: string | null) => void,
): Promise<AsyncIterable<Uint8Array, void, undefined>> {
  const res = await ctx.kit.send(ctx.http, url, {
    timeoutMs: RECV_TIMEOUT_MS,
    signal,
    headers: { accept: ctx.codec.contentType },
  });
  at?.(res.headers.get('x-encke-position'));
  if (res.ok && res.body) return bodyChunks(res.body);
  const bytes = new Uint8Array(await res.arrayBuffer());
  // An error in the connection's own format is a batch (a fatal ERROR with its status); any other
  // (the `{"error": …}` of a refused request, a proxy's page) is the failure reason.
  const batch =
    (res.headers.get('content-type') ?? '').startsWith(ctx.codec.contentType) &&
    (ctx.codec.format === 'msgpack' || bytes[0] === 0x5b);
  if (res.ok || batch) return once(bytes);
  throw ctx.kit.errorOf(res, new TextDecoder().decode(bytes));
}

export const supported = (ctx: TransportContext): boolean => typeof ctx.http.fetch === 'function';

/**
 * Comet long-polling (`xhr_polling`): each recv is held until there is something, then read whole,
 * acknowledged (docs/protocol.md "Acknowledged polling"): an answer lost on the way (Chromium
 * re-sends a GET whose reused connection was cut, and the page sees only the retry's answer) is
 * written again by the server.
 */
export async function load(): Promise<TransportModule> {
  return {
    supported,
    create: (ctx, sink) =>
      new CometTransport(ctx, sink, {
        name: 'xhr_polling',
        receiver: {
          connectParams: { stream: 'false', ack: '0' },
          async *read(url, signal, at) {
            yield* ctx.codec.batches(await recvChunks(ctx, url, signal, at));
          },
        },
      }),
  };
}
