/**
 * Plain (short) polling: each recv answers at once with whatever is queued, and the client asks
 * again after `pollInterval`. For environments that cannot hold a request open.
 */
import { CometTransport, recvChunks } from './comet.js';
import type { Transport, TransportContext, TransportSink } from './transport.js';

export const supported = (ctx: TransportContext): boolean => typeof ctx.http.fetch === 'function';

export function create(ctx: TransportContext, sink: TransportSink): Transport {
  return new CometTransport(ctx, sink, {
    name: 'polling',
    receiver: {
      connectParams: { stream: 'false', wait: '0' },
      recvParams: { wait: '0' },
      interval: ctx.options.pollInterval,
      async *read(url, signal) {
        yield* ctx.codec.batches(await recvChunks(ctx, url, signal));
      },
    },
  });
}
