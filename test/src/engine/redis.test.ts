import { after, before } from 'node:test';
import { RedisEngine, silentLogger } from '@encke/server';
import { TestRedis } from '../helpers/redis.js';
import { engineSuite } from './suite.js';

let redis: TestRedis;
before(async () => {
  redis = await TestRedis.start();
});
after(async () => {
  await redis.close();
});

engineSuite('redis', async ({ clock, logMaxCount, logMaxAge }) =>
  RedisEngine.connect({
    url: redis.url,
    prefix: `t${Math.random().toString(36).slice(2, 8)}:`,
    clock,
    logger: silentLogger,
    logMaxCount,
    logMaxAge,
    channelRetention: logMaxAge * 2,
    nodeId: `node-${Math.random().toString(36).slice(2, 8)}`,
    nodeTimeout: 10_000,
    statsMaxIntervals: 10_080,
    connectionStateTtl: 120_000,
  }));
