/**
 * JSONP script-tag polling (`jsonp`), for pages that can use neither WebSocket nor CORS: every
 * comet request (connect, recv, send, close) is a `<script>` whose answer calls
 * `_encke_jsonp._(n)({statusCode, response, headers})`; sends are GETs with `?body=`.
 */
import type { IsArrayValue } from '../util/unknown.js';
import type * as Comet from './comet.js';
import type { TransportContext, TransportModule } from './transport.js';

/** Loads the comet base by dynamic import, so a bundler keeps it in long-polling's file. */
export async function load(): Promise<TransportModule> {
  return transport(await import('./comet.js'));
}

interface Envelope {
  statusCode: number;
  response?: unknown;
  headers?: Record<string, string>;
}

type Registry = { _(n: number): (envelope: Envelope) => void; pending: Map<number, (envelope: Envelope) => void> };

/** The one global the answers call: `_encke_jsonp._(n)` is request n's callback. */
function registry(): Registry {
  const g = globalThis as { _encke_jsonp?: Registry };
  return (g._encke_jsonp ??= { pending: new Map(), _: (n) => (env) => g._encke_jsonp?.pending.get(n)?.(env) });
}

let counter = 0;

/** One script-tag request; resolves with its envelope, rejects if the script fails to load. */
function script(ctx: TransportContext, url: string, signal: AbortSignal): Promise<Envelope> {
  const reg = registry();
  const n = ++counter;
  const el = document.createElement('script');
  return new Promise<Envelope>((resolve, reject) => {
    const done = (): void => {
      reg.pending.delete(n);
      el.remove();
      signal.removeEventListener('abort', abort);
    };
    const abort = (): void => {
      done();
      reject(ctx.kit.ErrorInfo.of(ctx.kit.Err.disconnected, 'Request aborted'));
    };
    reg.pending.set(n, (env) => {
      done();
      resolve(env);
    });
    el.onerror = () => {
      done();
      reject(ctx.kit.ErrorInfo.of(ctx.kit.Err.disconnected, 'Script request failed'));
    };
    signal.addEventListener('abort', abort);
    el.src = ctx.kit.withQuery(url, { envelope: 'jsonp', callback: `_encke_jsonp._(${n})` });
    document.head.append(el);
  });
}

/** The error an envelope carries, if it is one (a fatal ERROR on a recv keeps its array response). */
function failure(ctx: TransportContext, env: Envelope): Error | undefined {
  if (env.statusCode < 400 || Array.isArray(env.response)) return undefined;
  const error = (env.response as { error?: unknown } | undefined)?.error;
  return error
    ? ctx.kit.ErrorInfo.from(error)
    : new ctx.kit.ErrorInfo(`HTTP ${env.statusCode}`, ctx.kit.Err.disconnected.code, env.statusCode);
}

function transport(comet: typeof Comet): TransportModule {
  return {
    supported: () => typeof document !== 'undefined',
    create: (ctx, sink) =>
      new comet.CometTransport(ctx, sink, {
        name: 'jsonp',
        getSends: true,
        receiver: {
          // Acknowledged (the position comes inside the envelope): a lost answer is written again.
          connectParams: { format: 'json', ack: '0' },
          async *read(url, signal, at) {
            const env = await script(ctx, url, signal);
            const err = failure(ctx, env);
            if (err) throw err;
            at(env.headers?.['X-Encke-Position']);
            if ((Array.isArray as IsArrayValue)(env.response)) yield ctx.codec.batch(env.response);
          },
        },
        async request(url, signal) {
          const err = failure(ctx, await script(ctx, url, signal));
          if (err) throw err;
        },
      }),
  };
}
