/**
 * ioredis, loaded when the first Redis engine is made: a node without Redis never loads it (the
 * package is CommonJS, so `require` loads it synchronously from the engine's constructor).
 */
import { createRequire } from 'node:module';
import type { Redis, RedisOptions } from 'ioredis';

type RedisClass = new (url: string, options: RedisOptions) => Redis;

let loaded: RedisClass | undefined;

export function redisClient(url: string, options: RedisOptions): Redis {
  loaded ??= (createRequire(import.meta.url)('ioredis') as { Redis: RedisClass }).Redis;
  return new loaded(url, options);
}
