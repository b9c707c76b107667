/**
 * GET /health and GET /ready: no credentials, cheap, and /ready turns 503 while the node drains
 * (SIGTERM to the real command, with --drain-delay) and while Redis is unreachable, and back to 200
 * when Redis returns.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closeAll, connect, connectionState, realtimeAt } from './helpers/ably.js';
import { startCluster } from './helpers/cluster.js';
import { httpGet, spawnEncke, until } from './helpers/process.js';
import { TestRedis } from './helpers/redis.js';
import { startServer } from './helpers/server.js';

const READY = { ready: true, draining: false, engine: true };

describe('/health and /ready', () => {
  it('answer 200 without credentials, never cached', async () => {
    const ts = await startServer();
    try {
      const health = await httpGet(ts.port, '/health');
      assert.equal(health.status, 200);
      assert.deepEqual(health.body, { status: 'ok', serverId: ts.server.options.serverId });
      assert.equal(health.headers['cache-control'], 'no-store');
      const ready = await httpGet(ts.port, '/ready');
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.body, READY);
      assert.equal((await httpGet(ts.port, '/ready?x=1')).status, 200);
    } finally {
      await ts.close();
    }
  });

  it(
    '/ready is 503 (draining) during the drain delay after SIGTERM, while /health and clients still work; then the drain',
    { timeout: 60_000 },
    async () => {
      const key = 'ready.k:ready-secret-0001';
      const p = spawnEncke(['serve', '--port', '0', '--key', key, '--drain-delay', '1500']);
      const client = realtimeAt(await p.started(), key);
      try {
        await connect(client);
        assert.equal((await httpGet(p.port, '/ready')).status, 200);
        const disconnected = connectionState(client, 'disconnected', 20_000);
        p.kill('SIGTERM');
        await until(async () => (await httpGet(p.port, '/ready')).status === 503, '/ready 503 after SIGTERM');
        assert.deepEqual((await httpGet(p.port, '/ready')).body, { ready: false, draining: true, engine: true });
        assert.equal((await httpGet(p.port, '/health')).status, 200);
        assert.equal(client.connection.state, 'connected', 'clients stay until the delay is over');
        assert.equal((await disconnected)?.reason?.code, 80003);
        assert.equal((await p.closed).code, 0);
        await assert.rejects(httpGet(p.port, '/health'), /ECONNREFUSED/);
      } finally {
        await closeAll(client);
        p.kill();
      }
    },
  );

  describe('on Redis', () => {
    const redis = TestRedis.perSuite();

    it(
      '/ready is 503 (engine) while Redis is down and 200 again once it is back; /health stays 200',
      { timeout: 60_000 },
      async () => {
        const cluster = await startCluster(redis, 1);
        const port = cluster.ports[0]!;
        try {
          assert.deepEqual((await httpGet(port, '/ready')).body, READY);
          await redis.stop();
          await until(async () => (await httpGet(port, '/ready')).status === 503, '/ready 503 with Redis down');
          assert.deepEqual((await httpGet(port, '/ready')).body, { ready: false, draining: false, engine: false });
          assert.equal((await httpGet(port, '/health')).status, 200);
          await redis.restart();
          await until(async () => (await httpGet(port, '/ready')).status === 200, '/ready 200 with Redis back', 20_000);
          assert.deepEqual((await httpGet(port, '/ready')).body, READY);
        } finally {
          await cluster.close();
        }
      },
    );
  });
});
