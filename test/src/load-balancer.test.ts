/**
 * A real load balancer (Debian's HAProxy and nginx, configured exactly as docs/deployment.md says)
 * round-robin in front of three `encke serve` nodes on a test-started Redis, with no stickiness:
 * the official SDK over WebSocket (msgpack and JSON) and comet (streaming and polling) through it,
 * a node killed with SIGKILL mid-stream, and every message delivered exactly once, in order.
 */
import { dataOf, objectOf } from './helpers/field.js';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as Ably from 'ably';
import { closeAll, Collector, connect, sleep } from './helpers/ably.js';
import { docFile } from './helpers/deployment-doc.js';
import { startHaproxy, startNginx, type LoadBalancer } from './helpers/load-balancers.js';
import { httpGet, spawnEncke, tempDir, type EnckeProcess } from './helpers/process.js';
import { TestRedis } from './helpers/redis.js';
import { KEYS, TEST_APPS } from './helpers/server.js';
import { stringField } from './helpers/json.js';

const NODES = 3;

function startNode(redis: TestRedis, prefix: string, i: number, extra: string[] = []): EnckeProcess {
  const config = join(tempDir('encke-lb-node-'), 'encke.json');
  writeFileSync(
    config,
    JSON.stringify({
      apps: TEST_APPS,
      redis: redis.url,
      redisPrefix: prefix,
      serverId: `${prefix}n${i}`,
      nodeTimeout: 1500,
    }),
  );
  return spawnEncke(['serve', '--config', config, '--port', '0', '--log-level', 'warn', ...extra], { detached: true });
}

type ClientKind = { name: string; options: Ably.ClientOptions };
const SUBSCRIBERS: ClientKind[] = [
  { name: 'websocket msgpack', options: { transports: ['web_socket'], useBinaryProtocol: true } },
  { name: 'comet streaming', options: { transports: ['comet'] } },
  { name: 'websocket json', options: { transports: ['web_socket'], useBinaryProtocol: false } },
  { name: 'comet polling', options: { transports: ['comet'], transportParams: { stream: false } } },
  { name: 'websocket msgpack 2', options: { transports: ['web_socket'], useBinaryProtocol: true } },
  { name: 'comet streaming 2', options: { transports: ['comet'] } },
];

function client(port: number, options: Ably.ClientOptions): Ably.Realtime {
  return new Ably.Realtime({
    key: KEYS.full,
    endpoint: '127.0.0.1',
    port,
    tls: false,
    logLevel: 0,
    disableConnectivityCheck: true,
    disconnectedRetryTimeout: 200,
    suspendedRetryTimeout: 200,
    ...options,
  });
}

const balancers: [string, (ports: number[]) => Promise<LoadBalancer>][] = [
  ['HAProxy', startHaproxy],
  ['nginx', startNginx],
];

describe('behind a real load balancer (docs/deployment.md)', () => {
  const redis = TestRedis.perSuite();

  for (const [name, start] of balancers) {
    it(
      `${name}: round-robin with no stickiness; WebSocket and comet; a node killed; nothing lost`,
      { timeout: 180_000 },
      async () => {
        const prefix = `lb${Math.random().toString(36).slice(2, 8)}:`;
        const nodes = Array.from({ length: NODES }, (_, i) => startNode(redis, prefix, i));
        let lb: LoadBalancer | undefined;
        const clients: Ably.Realtime[] = [];
        try {
          const ports = await Promise.all(nodes.map((n) => n.started()));
          lb = await start(ports);
          const port = lb.port;
          // Round-robin, no stickiness: six requests in a row reach each node twice.
          const seen: string[] = [];
          for (let i = 0; i < 2 * NODES; i++) {
            const health = await httpGet(port, '/health');
            assert.equal(health.status, 200);
            seen.push(stringField(objectOf(health.body), 'serverId'));
          }
          for (let i = 0; i < NODES; i++)
            assert.equal(seen.filter((s) => s === `${prefix}n${i}`).length, 2, `node ${i} twice in ${seen.join(' ')}`);

          const subscribers = SUBSCRIBERS.map((k) => client(port, k.options));
          const publisher = client(port, { transports: ['web_socket'], useBinaryProtocol: false });
          clients.push(...subscribers, publisher);
          await Promise.all(clients.map((c) => connect(c)));
          const ids = subscribers.map((s) => s.connection.id);
          const collectors = subscribers.map(() => new Collector());
          await Promise.all(subscribers.map((s, i) => s.channels.get('lb').subscribe(collectors[i]!.listener)));
          const channel = publisher.channels.get('lb');
          const publishes: Promise<unknown>[] = [];
          let sent = 0;
          const pump = async (count: number): Promise<void> => {
            for (let i = 0; i < count; i++) {
              publishes.push(channel.publish('n', String(sent++)));
              await sleep(10);
            }
          };
          await pump(60);
          nodes[1]!.kill('SIGKILL');
          await pump(100);
          await Promise.all(publishes);
          await Promise.all(
            collectors.map((c, i) =>
              c.waitFor(sent, 60_000).catch((err: Error) => {
                const got = new Set(c.items.map((m) => Number(dataOf(m))));
                const missing = [...Array(sent).keys()].filter((n) => !got.has(n));
                throw new Error(
                  `${SUBSCRIBERS[i]!.name}: ${err.message}; missing ${missing.join(',')}; state ${subscribers[i]!.connection.state}`,
                );
              }),
            ),
          );
          await sleep(300);
          for (const [i, c] of collectors.entries()) {
            assert.deepEqual(
              c.items.map((m) => Number(dataOf(m))),
              [...Array(sent).keys()],
              `${SUBSCRIBERS[i]!.name}: every message once, in order`,
            );
            assert.equal(
              subscribers[i]!.connection.id,
              ids[i],
              `${SUBSCRIBERS[i]!.name} kept its connection (resumed)`,
            );
          }
          // After the kill, the balancer sends nothing to the dead node.
          for (let i = 0; i < 2 * NODES; i++)
            assert.notEqual(stringField(objectOf((await httpGet(port, '/health')).body), 'serverId'), `${prefix}n1`);
        } finally {
          await closeAll(...clients);
          await lb?.close();
          for (const n of nodes) n.killGroup();
        }
      },
    );
  }

  it(
    "HAProxy: a node drained with the unit's drain flags is taken out before its listener closes; its clients resume elsewhere; nothing lost",
    { timeout: 180_000 },
    async () => {
      const unit = docFile('encke.service');
      const drainFlags = [
        '--drain-delay',
        /--drain-delay (\d+)/.exec(unit)![1]!,
        '--drain-timeout',
        /--drain-timeout (\d+)/.exec(unit)![1]!,
      ];
      const prefix = `ld${Math.random().toString(36).slice(2, 8)}:`;
      const nodes = Array.from({ length: NODES }, (_, i) => startNode(redis, prefix, i, drainFlags));
      let lb: LoadBalancer | undefined;
      const clients: Ably.Realtime[] = [];
      try {
        const ports = await Promise.all(nodes.map((n) => n.started()));
        const drainedPort = ports[1]!;
        lb = await startHaproxy(ports);
        const port = lb.port;
        const subscribers = SUBSCRIBERS.map((k) => client(port, k.options));
        const publisher = client(port, { transports: ['web_socket'], useBinaryProtocol: false });
        clients.push(...subscribers, publisher);
        await Promise.all(clients.map((c) => connect(c)));
        const ids = subscribers.map((s) => s.connection.id);
        const collectors = subscribers.map(() => new Collector());
        await Promise.all(subscribers.map((s, i) => s.channels.get('drain').subscribe(collectors[i]!.listener)));
        const channel = publisher.channels.get('drain');
        const publishes: Promise<unknown>[] = [];
        let sent = 0;
        const drained = `${prefix}n1`;
        let exited = false;
        void nodes[1]!.closed.then(() => (exited = true));
        for (let i = 0; i < 40; i++) publishes.push(channel.publish('n', String(sent++)));
        nodes[1]!.kill('SIGTERM');
        // HAProxy stops sending requests to the draining node (its /ready is 503) while it still listens.
        let inARow = 0;
        while (inARow < 2 * NODES) {
          const serverId = stringField(objectOf((await httpGet(port, '/health')).body), 'serverId');
          inARow = serverId === drained ? 0 : inARow + 1;
          publishes.push(channel.publish('n', String(sent++)));
          await sleep(20);
        }
        // …and it was taken out while still listening (draining), not after its listener closed.
        const direct = await httpGet(drainedPort, '/ready');
        assert.deepEqual([direct.status, exited], [503, false], 'HAProxy took the node out during the drain delay');
        for (let i = 0; i < 40; i++) {
          publishes.push(channel.publish('n', String(sent++)));
          await sleep(10);
        }
        assert.equal((await nodes[1]!.closed).code, 0, 'the drained node exits 0');
        await Promise.all(publishes);
        await Promise.all(collectors.map((c) => c.waitFor(sent, 60_000)));
        await sleep(300);
        for (const [i, c] of collectors.entries()) {
          assert.deepEqual(
            c.items.map((m) => Number(dataOf(m))),
            [...Array(sent).keys()],
            `${SUBSCRIBERS[i]!.name}: every message once, in order`,
          );
          assert.equal(subscribers[i]!.connection.id, ids[i], `${SUBSCRIBERS[i]!.name} kept its connection`);
        }
      } finally {
        await closeAll(...clients);
        await lb?.close();
        for (const n of nodes) n.killGroup();
      }
    },
  );
});
