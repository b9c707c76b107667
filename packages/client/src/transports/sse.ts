/**
 * Server-Sent Events as the downstream of a comet connection (`sse`): the recv is an EventSource,
 * each event one JSON array of ProtocolMessages; sends are the comet POSTs. When the stream ends
 * or breaks, the browser reconnects by itself with `Last-Event-ID` and the server continues after
 * what it has (or resumes the connection: a CONNECTED, which the connection handles as a resume).
 */
import type { ParseJson } from '../util/unknown.js';
import type { ProtocolMessage } from '@encke/protocol/types';
import type * as Comet from './comet.js';
import type { TransportContext, TransportModule } from './transport.js';

/** Loads the comet base by dynamic import, so a bundler keeps it in long-polling's file. */
export async function load(): Promise<TransportModule> {
  return transport(await import('./comet.js'));
}

const ASK = { envelope: 'sse', format: 'json' };

function transport(comet: typeof Comet): TransportModule {
  return {
    supported: (ctx) => comet.supported(ctx) && typeof EventSource !== 'undefined',
    create: (ctx, sink) =>
      new comet.CometTransport(ctx, sink, {
        name: 'sse',
        receiver: { connectParams: ASK, recvParams: ASK, read: (url, signal) => events(ctx, url, signal) },
      }),
  };
}

/** The batches of an EventSource until it closes for good (the browser's own reconnects included). */
async function* events(
  ctx: TransportContext,
  url: string,
  signal: AbortSignal,
): AsyncIterable<ProtocolMessage[], void, undefined> {
  const source = new EventSource(url);
  // Each event's JSON, parsed and checked as it is read (a malformed one fails the stream, not the page).
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let failed = false;
  source.onmessage = (e: MessageEvent<string>) => {
    queue.push(e.data);
    wake?.();
  };
  // CONNECTING after an error is the browser reconnecting by itself; CLOSED is final (an HTTP error).
  source.onerror = () => {
    failed = source.readyState === EventSource.CLOSED;
    wake?.();
  };
  const stop = (): void => wake?.();
  signal.addEventListener('abort', stop);
  try {
    for (;;) {
      const data = queue.shift();
      if (data !== undefined) yield ctx.codec.batch((JSON.parse as ParseJson)(data));
      else if (failed) throw ctx.kit.ErrorInfo.of(ctx.kit.Err.disconnected, 'Event stream failed');
      else if (signal.aborted) return;
      else await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    source.close();
    signal.removeEventListener('abort', stop);
  }
}
