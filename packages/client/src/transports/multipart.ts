/**
 * multipart/x-mixed-replace streaming (`multipart`): the recv is one held response whose parts are
 * JSON arrays of ProtocolMessages, each handed over when the boundary after it arrives; read with
 * fetch streams. Sends are the comet POSTs.
 */
import type { ParseJson } from '../util/unknown.js';
import type { ProtocolMessage } from '@encke/protocol/types';
import type * as Comet from './comet.js';
import type { TransportContext, TransportModule } from './transport.js';

/** Loads the comet base by dynamic import, so a bundler keeps it in long-polling's file. */
export async function load(): Promise<TransportModule> {
  return transport(await import('./comet.js'));
}

const ASK = { envelope: 'multipart', format: 'json' };

function transport(comet: typeof Comet): TransportModule {
  return {
    supported: (ctx) => comet.supported(ctx) && typeof ReadableStream !== 'undefined',
    create: (ctx, sink) =>
      new comet.CometTransport(ctx, sink, {
        name: 'multipart',
        receiver: { connectParams: ASK, recvParams: ASK, read: (url, signal) => parts(ctx, url, signal) },
      }),
  };
}

/** The JSON arrays of a multipart body, each once the delimiter after it has arrived. */
async function* parts(
  ctx: TransportContext,
  url: string,
  signal: AbortSignal,
): AsyncIterable<ProtocolMessage[], void, undefined> {
  const { kit } = ctx;
  const res = await kit.send(ctx.http, url, {
    timeoutMs: 2 ** 31 - 1,
    signal,
    headers: { accept: 'multipart/x-mixed-replace' },
  });
  const type = res.headers.get('content-type') ?? '';
  const boundary = /boundary="?([^";]+)"?/.exec(type)?.[1];
  if (!res.ok || !boundary || !res.body) throw kit.errorOf(res, await res.text());
  const delimiter = `--${boundary}`;
  const utf8 = new TextDecoder();
  const reader = res.body.getReader();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    text += utf8.decode(value, { stream: true });
    const segments = text.split(delimiter);
    // The last segment may still be arriving; every one before it is a whole part.
    text = segments.pop() ?? '';
    for (const segment of segments) {
      const body = segment.slice(segment.indexOf('\r\n\r\n') + 4).trim();
      if (segment.includes('\r\n\r\n') && body) yield ctx.codec.batch((JSON.parse as ParseJson)(body));
    }
  }
}
