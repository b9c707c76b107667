/**
 * The forever-iframe (`iframe`, htmlfile): the recv is a hidden iframe whose document never
 * finishes loading; each batch arrives as `postMessage({encke: […]})` from it, checked to come
 * from that frame and the server's origin. When the server ends the document (a byte budget), its
 * `load` fires and the next recv opens in a new frame. Sends are the comet POSTs.
 */
import type { ProtocolMessage } from '@encke/protocol/types';
import type * as Comet from './comet.js';
import type { TransportModule } from './transport.js';

/** Loads the comet base by dynamic import, so a bundler keeps it in long-polling's file. */
export async function load(): Promise<TransportModule> {
  return transport(await import('./comet.js'));
}

function transport(comet: typeof Comet): TransportModule {
  return {
    supported: (ctx) => comet.supported(ctx) && typeof document !== 'undefined' && typeof location !== 'undefined',
    create: (ctx, sink) => {
      const ask = { envelope: 'htmlfile', format: 'json', origin: location.origin };
      return new comet.CometTransport(ctx, sink, {
        name: 'iframe',
        receiver: { connectParams: ask, recvParams: ask, read: frames },
      });
    },
  };
}

/** The batches one iframe document delivers, until it has loaded completely. */
async function* frames(url: string, signal: AbortSignal): AsyncIterable<ProtocolMessage[], void, undefined> {
  const frame = document.createElement('iframe');
  const server = new URL(url).origin;
  const queue: ProtocolMessage[][] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  const onMessage = (e: MessageEvent<{ encke?: unknown }>): void => {
    if (e.source !== frame.contentWindow || e.origin !== server || !Array.isArray(e.data?.encke)) return;
    queue.push(e.data.encke as ProtocolMessage[]);
    wake?.();
  };
  const stop = (): void => {
    ended = true;
    wake?.();
  };
  frame.style.display = 'none';
  frame.onload = stop;
  signal.addEventListener('abort', stop);
  addEventListener('message', onMessage);
  frame.src = url;
  document.body.append(frame);
  try {
    for (;;) {
      const batch = queue.shift();
      if (batch) yield batch;
      else if (ended) return;
      else await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    removeEventListener('message', onMessage);
    signal.removeEventListener('abort', stop);
    frame.remove();
  }
}
