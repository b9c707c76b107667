/**
 * Plain (short) polling: each recv answers at once with whatever is queued, and the client asks
 * again after `pollInterval`. For environments that cannot hold a request open.
 */
import type * as Comet from './comet.js';
import type { TransportModule } from './transport.js';

export function transport(comet: typeof Comet): TransportModule {
  return {
    supported: comet.supported,
    create: (ctx, sink) =>
      new comet.CometTransport(ctx, sink, {
        name: 'polling',
        receiver: {
          connectParams: { stream: 'false', wait: '0' },
          recvParams: { wait: '0' },
          interval: ctx.options.pollInterval,
          async *read(url, signal) {
            yield* ctx.codec.batches(await comet.recvChunks(ctx, url, signal));
          },
        },
      }),
  };
}
