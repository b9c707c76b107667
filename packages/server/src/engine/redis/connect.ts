/**
 * Connecting to Redis at start. ioredis keeps retrying an unreachable server forever (its
 * `retryStrategy`), which left a node that could not reach Redis hanging without listening. Here
 * the first connection gets a deadline: it retries until `timeoutMs`, then stops the clients and
 * fails with one error that names the server and the last cause. Once started, a lost connection
 * is retried without end (the node's /ready says 503 meanwhile).
 */
import type { Redis } from 'ioredis';

/** Default of `redisConnectTimeout`: how long a start keeps retrying. */
export const DEFAULT_CONNECT_TIMEOUT = 10_000;

export class RedisUnreachableError extends Error {
  readonly code = 'REDIS_UNREACHABLE';
}

/** Resolves when every client is ready; rejects with RedisUnreachableError after `timeoutMs`. */
export async function connectWithin(clients: Redis[], label: string, timeoutMs: number): Promise<void> {
  let lastError = 'no answer';
  const onError = (err: Error): void => {
    lastError = err.message;
  };
  for (const c of clients) c.on('error', onError);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      for (const c of clients) c.disconnect();
      reject(new RedisUnreachableError(`Redis at ${label} unreachable after ${timeoutMs} ms (${lastError})`));
    }, timeoutMs);
  });
  try {
    await Promise.race([Promise.all(clients.map((c) => whenReady(c))), deadline]);
  } finally {
    clearTimeout(timer);
    for (const c of clients) c.off('error', onError);
  }
}

function whenReady(client: Redis): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    client.once('ready', () => resolve());
    // A failed first attempt rejects connect(); ioredis then reconnects by itself (retryStrategy).
    if (client.status === 'wait') client.connect().catch(() => undefined);
  });
}
