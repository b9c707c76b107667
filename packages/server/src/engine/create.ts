import type { ResolvedOptions } from '../options.js';
import type { Engine } from './engine.js';
import { MemoryEngine } from './memory/memory-engine.js';
import { RedisEngine } from './redis/redis-engine.js';

/** The engine the options ask for: the one given, a Redis engine with `redis`, else the memory engine. */
export function createEngine(o: ResolvedOptions): Engine {
  if (o.engine) return o.engine;
  const shared = {
    clock: o.clock,
    logMaxCount: o.channelLogMaxCount,
    logMaxAge: o.channelLogMaxAge,
    // Channels keep their epoch long enough for any client that may still resume from it.
    channelRetention: Math.max(o.channelLogMaxAge, o.connectionStateTtl) * 2,
    statsMaxIntervals: o.statsMaxIntervals,
  };
  if (o.redis === undefined)
    return new MemoryEngine({ ...shared, maxChannels: o.maxChannels, maxPresenceMembers: o.presenceMaxMembersTotal });
  return new RedisEngine({
    ...shared,
    url: o.redis,
    prefix: o.redisPrefix,
    connectTimeout: o.redisConnectTimeout,
    logger: o.logger,
    nodeId: o.serverId,
    nodeTimeout: o.nodeTimeout,
    connectionStateTtl: o.connectionStateTtl,
  });
}
