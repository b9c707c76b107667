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

/** Methods of ioredis's Redis the engine relies on (commands, pipelines, pub/sub, events, shutdown). */
const METHODS = ['pipeline', 'evalsha', 'subscribe', 'unsubscribe', 'on', 'quit', 'hgetall', 'zadd'] as const;

/**
 * Whether `value` is ioredis's Redis class as its types describe it: a constructor whose instances
 * have the methods the engine calls (a function whose prototype lacks one is another module's).
 */
function isRedisClass(value: unknown): value is RedisClass {
  if (typeof value !== 'function') return false;
  const prototype = readField(value, 'prototype');
  return (
    typeof prototype === 'object' &&
    prototype !== null &&
    METHODS.every((name) => typeof readField(prototype, name) === 'function')
  );
}

function loadRedis(): RedisClass {
  const mod = load('ioredis');
  const Redis =
    typeof mod === 'function' || (typeof mod === 'object' && mod !== null) ? readField(mod, 'Redis') : undefined;
  if (!isRedisClass(Redis)) throw new Error('ioredis exports no Redis class');
  return Redis;
}

export function redisClient(url: string, options: RedisOptions): Redis {
  loaded ??= loadRedis();
  return new loaded(url, options);
}
