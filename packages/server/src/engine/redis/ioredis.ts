/**
 * ioredis, loaded when the first Redis engine is made: a node without Redis never loads it (the
 * package is CommonJS, so `require` loads it synchronously from the engine's constructor).
 */
import { createRequire } from 'node:module';
import { readField } from '@encke/protocol';
import type { Redis, RedisOptions } from 'ioredis';

type RedisClass = new (url: string, options: RedisOptions) => Redis;

let loaded: RedisClass | undefined;

/** `require`, typed as what a module it loads is until checked: unknown. */
const load: (id: string) => unknown = createRequire(import.meta.url);

function loadRedis(): RedisClass {
  const mod = load('ioredis');
  const Redis =
    typeof mod === 'function' || (typeof mod === 'object' && mod !== null) ? readField(mod, 'Redis') : undefined;
  if (typeof Redis !== 'function') throw new Error('ioredis exports no Redis class');
  // A function named Redis from the ioredis package its types describe.
  return Redis as RedisClass;
}

export function redisClient(url: string, options: RedisOptions): Redis {
  loaded ??= loadRedis();
  return new loaded(url, options);
}
