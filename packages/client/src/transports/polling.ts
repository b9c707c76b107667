/**
 * Plain (short) polling: each recv answers at once with whatever is queued, and the client asks
 * again after `pollInterval`. For environments that cannot hold a request open.
 */
import type * as Comet from './comet.js';
import type { TransportModule } from './transport.js';

/**
 * The comet base comes by dynamic import, not a static one, so that a bundler keeps it in the one
 * file long-polling loads rather than splitting it into a chunk of its own.
 */
export async function load(): Promise<TransportModule> {
  return transport(await import('./comet.js'));
}

function transport(comet: typeof Comet): TransportModule {
  return {
    supported: comet.supported,
    create: (ctx, sink) =>
      new comet.CometTransport(ctx, sink, {
        name: 'polling',
        receiver: {
          // Acknowledged, as long-polling: a lost answer is written again.
          connectParams: { stream: 'false', ack: '0' },
          recvParams: { wait: '0' },
          interval: ctx.options.pollInterval,
          async *read(url, signal, at) {
            yield* ctx.codec.batches(await comet.recvChunks(ctx, url, signal, at));
          },
        },
      }),
  };
}
