/**
 * Comet streaming (`xhr_streaming`): the recv is held open and read as it arrives, newline-
 * delimited JSON arrays (or concatenated msgpack arrays), with fetch streams where the runtime has
 * them and XMLHttpRequest progress events otherwise. A proxy that buffers the body shows up as no
 * CONNECTED within `transportStallTimeout`; the connection then tries the next transport.
 */
import type { ParseJson } from '../util/unknown.js';
import type { ProtocolMessage } from '@encke/protocol/types';
import type { ErrorInfo } from '../errors.js';
import type * as Comet from './comet.js';
import type { TransportContext, TransportModule } from './transport.js';

const fetchStreams = (): boolean =>
  typeof ReadableStream !== 'undefined' && typeof Response !== 'undefined' && 'body' in Response.prototype;

/**
 * The comet base comes by dynamic import, not a static one, so that a bundler keeps it in the one
 * file long-polling loads rather than splitting it into a chunk of its own.
 */
export async function load(): Promise<TransportModule> {
  return transport(await import('./comet.js'));
}

function transport(comet: typeof Comet): TransportModule {
  return {
    supported: (ctx) => (fetchStreams() && comet.supported(ctx)) || typeof XMLHttpRequest !== 'undefined',
    create(ctx, sink) {
      const viaFetch = fetchStreams() && ctx.options.streamingWith !== 'xhr';
      return new comet.CometTransport(ctx, sink, {
        name: 'xhr_streaming',
        receiver: {
          connectParams: { stream: 'true' },
          read: viaFetch
            ? async function* (url, signal) {
                yield* ctx.codec.batches(await comet.recvChunks(ctx, url, signal));
              }
            : (url, signal) => xhrStream(ctx, url, signal),
        },
      });
    },
  };
}

/** XHR streaming: progress events deliver the body so far; complete lines are parsed as they come (JSON only). */
async function* xhrStream(
  ctx: TransportContext,
  url: string,
  signal: AbortSignal,
): AsyncIterable<ProtocolMessage[], void, undefined> {
  const { Err, ErrorInfo } = ctx.kit;
  const xhr = new XMLHttpRequest();
  const pending: Uint8Array[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  let failure: ErrorInfo | undefined;
  let seen = 0;
  const push = (): void => {
    const text = xhr.responseText;
    if (text.length > seen) pending.push(new TextEncoder().encode(text.slice(seen)));
    seen = text.length;
    wake?.();
  };
  xhr.open('GET', url);
  xhr.setRequestHeader('accept', 'application/json');
  xhr.onprogress = push;
  xhr.onload = () => {
    push();
    if (xhr.status >= 400 && !xhr.responseText.trimStart().startsWith('[')) failure = xhrError(ctx, xhr);
    ended = true;
    wake?.();
  };
  xhr.onerror = () => {
    failure = ErrorInfo.of(Err.disconnected, 'Streaming request failed');
    ended = true;
    wake?.();
  };
  signal.addEventListener('abort', () => xhr.abort());
  xhr.send();
  async function* chunks(): AsyncIterable<Uint8Array, void, undefined> {
    for (;;) {
      const next = pending.shift();
      if (next) {
        yield next;
        continue;
      }
      if (failure) throw failure;
      if (ended || signal.aborted) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  yield* ctx.codec.batches(chunks());
}

function xhrError(ctx: TransportContext, xhr: XMLHttpRequest): ErrorInfo {
  const { Err, ErrorInfo } = ctx.kit;
  try {
    const body = (JSON.parse as ParseJson)(xhr.responseText);
    if (typeof body === 'object' && body !== null && 'error' in body && body.error) return ErrorInfo.from(body.error);
  } catch {
    // not JSON: a proxy's page
  }
  return new ErrorInfo(`HTTP ${xhr.status}`, Err.disconnected.code, xhr.status);
}
