/** The official SDK pointed at a local server, and small helpers to await its events. */
import * as Ably from 'ably';
import type { TestServer } from './server.js';
import { KEYS } from './server.js';

export type Format = 'json' | 'msgpack';
export type TransportName = 'web_socket' | 'comet';

export interface Variant {
  name: string;
  transport: TransportName;
  format: Format;
  transportParams?: Record<string, string | number | boolean>;
}

/** The scenario table runs once per variant. */
export const WS_VARIANTS: Variant[] = [
  { name: 'websocket json', transport: 'web_socket', format: 'json' },
  { name: 'websocket msgpack', transport: 'web_socket', format: 'msgpack' },
];

/** Comet always speaks JSON (ably-js ignores useBinaryProtocol on it); Node streams unless told not to. */
export const COMET_VARIANTS: Variant[] = [
  { name: 'comet streaming', transport: 'comet', format: 'json' },
  { name: 'comet polling', transport: 'comet', format: 'json', transportParams: { stream: false } },
];

export function realtime(ts: TestServer, variant: Variant, options: Ably.ClientOptions = {}): Ably.Realtime {
  return new Ably.Realtime({
    key: KEYS.full,
    endpoint: '127.0.0.1',
    port: ts.port,
    tls: false,
    useBinaryProtocol: variant.format === 'msgpack',
    transports: [variant.transport],
    disableConnectivityCheck: true,
    logLevel: 0,
    ...(variant.transportParams ? { transportParams: variant.transportParams } : {}),
    ...options,
  });
}

/**
 * An SDK client of a server this test spawned (`encke serve`) at `port`, with `key`: WebSocket, no
 * connectivity check, and no quick retry (a test that drops the server waits on purpose).
 */
export function realtimeAt(port: number, key: string): Ably.Realtime {
  return new Ably.Realtime({
    key,
    endpoint: '127.0.0.1',
    port,
    tls: false,
    logLevel: 0,
    disableConnectivityCheck: true,
    disconnectedRetryTimeout: 60_000,
  });
}

export function rest(ts: TestServer, format: Format, options: Ably.ClientOptions = {}): Ably.Rest {
  return new Ably.Rest({
    key: KEYS.full,
    endpoint: '127.0.0.1',
    port: ts.port,
    tls: false,
    useBinaryProtocol: format === 'msgpack',
    logLevel: 0,
    ...options,
  });
}

/** Resolves at `state`, rejects if the connection reaches a terminal state first or time runs out. */
export function connectionState(
  client: Ably.Realtime,
  state: Ably.ConnectionState,
  timeoutMs = 10_000,
): Promise<Ably.ConnectionStateChange | null> {
  if (client.connection.state === state) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.connection.off(listener);
      reject(new Error(`connection did not reach ${state} within ${timeoutMs} ms (is ${client.connection.state})`));
    }, timeoutMs);
    const listener = (change: Ably.ConnectionStateChange): void => {
      if (change.current === state) {
        clearTimeout(timer);
        client.connection.off(listener);
        resolve(change);
      } else if (change.current === 'failed' || change.current === 'closed') {
        clearTimeout(timer);
        client.connection.off(listener);
        reject(
          new Error(`connection went ${change.current} while waiting for ${state}: ${change.reason?.message ?? ''}`),
        );
      }
    };
    client.connection.on(listener);
  });
}

export async function connect(client: Ably.Realtime): Promise<Ably.Realtime> {
  await connectionState(client, 'connected');
  return client;
}

/** Closes clients and waits for them to be closed (or failed). */
export async function closeAll(...clients: Ably.Realtime[]): Promise<void> {
  await Promise.all(
    clients.map(async (c) => {
      if (c.connection.state === 'closed' || c.connection.state === 'failed') return;
      c.close();
      await new Promise<void>((resolve) => {
        const done = (): void => resolve();
        c.connection.once('closed', done);
        c.connection.once('failed', done);
        setTimeout(done, 2000).unref();
      });
    }),
  );
}

/** Collects messages delivered to a subscription. */
export class Collector<T = Ably.Message> {
  readonly items: T[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];

  readonly listener = (item: T): void => {
    this.items.push(item);
    this.waiters = this.waiters.filter((w) => {
      if (this.items.length >= w.count) {
        w.resolve();
        return false;
      }
      return true;
    });
  };

  /** Resolves when at least `count` items have arrived. */
  waitFor(count: number, timeoutMs = 10_000): Promise<T[]> {
    if (this.items.length >= count) return Promise.resolve(this.items);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`got ${this.items.length} of ${count} items within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve(this.items);
        },
      });
    });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `predicate` until true or time runs out. */
export async function eventually(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(20);
  }
}
