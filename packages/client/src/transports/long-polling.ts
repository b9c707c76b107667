/** Comet long-polling (`xhr_polling`): each recv is held until there is something, then read whole. */
import { CometTransport, recvChunks } from './comet.js';
import type { Transport, TransportContext, TransportSink } from './transport.js';

export const supported = (ctx: TransportContext): boolean => typeof ctx.http.fetch === 'function';

export function create(ctx: TransportContext, sink: TransportSink): Transport {
  return new CometTransport(ctx, sink, {
    name: 'xhr_polling',
    receiver: {
      connectParams: { stream: 'false' },
      async *read(url, signal) {
        yield* ctx.codec.batches(await recvChunks(ctx, url, signal));
      },
    },
  });
}
