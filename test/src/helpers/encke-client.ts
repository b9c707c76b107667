/** encke's own client (@encke/client) pointed at a local server, per transport and format. */
import {
  Realtime,
  type ClientOptions,
  type ConnectionState,
  type ConnectionStateChange,
  type TransportName,
} from '@encke/client';
import type { TestServer } from './server.js';
import { KEYS } from './server.js';

export interface ClientVariant {
  name: string;
  transport: TransportName;
  format: 'json' | 'msgpack';
}

/** Every transport the Node runtime can use, in both formats. */
/** sse, jsonp and iframe need a browser (EventSource, script tags, iframes): test/src/browser-client.test.ts. */
export const NODE_TRANSPORTS: TransportName[] = ['web_socket', 'xhr_streaming', 'xhr_polling', 'polling', 'multipart'];
export const CLIENT_VARIANTS: ClientVariant[] = NODE_TRANSPORTS.flatMap((transport) =>
  (['json', 'msgpack'] as const).map((format) => ({ name: `${transport} ${format}`, transport, format })),
);

export function enckeClient(ts: TestServer, variant: ClientVariant, options: ClientOptions = {}): Realtime {
  return new Realtime({
    key: KEYS.full,
    endpoint: '127.0.0.1',
    port: ts.port,
    tls: false,
    transports: [variant.transport],
    useBinaryProtocol: variant.format === 'msgpack',
    pollInterval: 50,
    logLevel: 0,
    ...options,
  });
}

/** Resolves at `state`; rejects on failed/closed first, or after `timeoutMs`. */
export function reach(
  client: Realtime,
  state: ConnectionState,
  timeoutMs = 10_000,
): Promise<ConnectionStateChange | null> {
  if (client.connection.state === state) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.connection.off(listener);
      reject(
        new Error(
          `connection did not reach ${state} within ${timeoutMs} ms (is ${client.connection.state}: ${client.connection.errorReason?.message ?? ''})`,
        ),
      );
    }, timeoutMs);
    const listener = (change: ConnectionStateChange): void => {
      const terminal = change.current === 'failed' || change.current === 'closed';
      if (change.current !== state && !terminal) return;
      clearTimeout(timer);
      client.connection.off(listener);
      if (change.current === state) resolve(change);
      else
        reject(
          new Error(`connection went ${change.current} while waiting for ${state}: ${change.reason?.message ?? ''}`),
        );
    };
    client.connection.on(listener);
  });
}

export async function closeClients(...clients: Realtime[]): Promise<void> {
  await Promise.all(
    clients.map(async (c) => {
      const s = c.connection.state;
      if (s === 'closed' || s === 'failed') return;
      c.close();
      await Promise.race([
        c.connection.whenState('closed'),
        c.connection.whenState('failed'),
        new Promise((r) => setTimeout(r, 3000).unref()),
      ]);
    }),
  );
}

/** Whether the server holds a session for this connection id. */
export function serverHas(ts: TestServer, connectionId: string | undefined): boolean {
  return connectionId !== undefined && ts.server.inspect.connection(connectionId) !== undefined;
}
