/**
 * Failures in a cluster: a node killed with SIGKILL in the middle of a numbered publish stream (real
 * processes, started with the `encke serve` command), and a Redis restart.
 */
import { dataOf } from './helpers/field.js';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as Ably from 'ably';
import type { Logger } from '@encke/server';
import { Collector, closeAll, connect, eventually, sleep } from './helpers/ably.js';
import { Balancer } from './helpers/balancer.js';
import { startCluster } from './helpers/cluster.js';
import { TestRedis } from './helpers/redis.js';
import { KEYS, TEST_APPS } from './helpers/server.js';

const BIN = fileURLToPath(new URL('../../packages/cli/bin/encke.js', import.meta.url));
const FAST_RETRY = { disconnectedRetryTimeout: 100, suspendedRetryTimeout: 100 } as const;

function client(port: number, options: Ably.ClientOptions = {}): Ably.Realtime {
  return new Ably.Realtime({
    key: KEYS.full,
    endpoint: '127.0.0.1',
    port,
    tls: false,
    disableConnectivityCheck: true,
    logLevel: 0,
    ...FAST_RETRY,
    ...options,
  });
}

/** An `encke serve` process in the cluster; resolves once it listens. */
async function spawnNode(
  redisUrl: string,
  prefix: string,
  name: string,
): Promise<{ child: ChildProcess; port: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'encke-node-'));
  const config = join(dir, 'encke.json');
  writeFileSync(
    config,
    JSON.stringify({
      apps: TEST_APPS,
      redis: redisUrl,
      redisPrefix: prefix,
      serverId: name,
      nodeTimeout: 1500,
      port: 0,
    }),
  );
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config, '--log-level', 'info'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    const m = /"port":(\d+)[^\n]*"msg":"encke listening"/.exec(out);
    if (m) return { child, port: Number(m[1]) };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`node ${name} did not start: ${out}`);
    await sleep(50);
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

describe('cluster failover', () => {
  const redis = TestRedis.perSuite();

  it('kill -9 of a node mid-stream: its clients resume elsewhere, every message arrives exactly once, in order', async () => {
    const prefix = `k${Math.random().toString(36).slice(2, 8)}:`;
    const nodes = await Promise.all([0, 1, 2].map((i) => spawnNode(redis.url, prefix, `${prefix}n${i}`)));
    const balancer = await Balancer.start(
      nodes.map((n) => n.port),
      'tcp',
    );
    // Six clients through a round-robin balancer, two on each node: the publisher (first) and one
    // subscriber are on the node that gets killed.
    const subscribers = Array.from({ length: 5 }, () => client(balancer.port));
    const publisher = client(balancer.port, { useBinaryProtocol: false });
    try {
      for (const c of [publisher, ...subscribers]) await connect(c);
      const ids = subscribers.map((s) => s.connection.id);
      const collectors = subscribers.map(() => new Collector());
      await Promise.all(subscribers.map((s, i) => s.channels.get('stream').subscribe(collectors[i]!.listener)));
      const channel = publisher.channels.get('stream');
      const publishes: Promise<unknown>[] = [];
      let sent = 0;
      const pump = async (count: number, pace: number): Promise<void> => {
        for (let i = 0; i < count; i++) {
          publishes.push(channel.publish('n', String(sent++)));
          if (pace > 0) await sleep(pace);
        }
      };
      await pump(100, 5);
      // A burst right before the kill: the dead node has published some of it without the ACKs
      // reaching the publisher, which re-sends them to its new node (exactly once needs the
      // msgSerials the dead node recorded with each append).
      await pump(60, 0);
      await sleep(3);
      nodes[0]!.child.kill('SIGKILL');
      balancer.setUpstreams([nodes[1]!.port, nodes[2]!.port]);
      await pump(200, 5);
      await Promise.all(publishes);
      await Promise.all(collectors.map((c) => c.waitFor(sent, 30_000)));
      await sleep(300);
      for (const [i, c] of collectors.entries()) {
        assert.deepEqual(
          c.items.map((m) => Number(dataOf(m))),
          range(sent),
          `subscriber ${i}: every message once, in order`,
        );
        assert.equal(subscribers[i]!.connection.id, ids[i], `subscriber ${i} kept its connection`);
      }
      assert.equal(balancer.routed[0], nodes[0]!.port, 'the publisher was on the killed node');
      assert.equal(balancer.routed[3], nodes[0]!.port, 'a subscriber was on the killed node');
    } finally {
      await closeAll(...subscribers, publisher);
      await balancer.close();
      for (const n of nodes) n.child.kill('SIGKILL');
    }
  });

  it('restart of Redis: the service recovers, says so in its logs, and delivery resumes', async () => {
    const lines: string[] = [];
    const record =
      (level: string) =>
      (obj: object | string, msg?: string): void => {
        lines.push(`${level} ${typeof obj === 'string' ? obj : (msg ?? '')}`);
      };
    const logger: Logger = {
      fatal: record('fatal'),
      error: record('error'),
      warn: record('warn'),
      info: record('info'),
      debug: () => {},
      trace: () => {},
      isLevelEnabled: (level) => level !== 'debug' && level !== 'trace',
      child: () => logger,
    };
    const cluster = await startCluster(redis, 2, { logger });
    const subscriber = client(cluster.ports[0]!);
    const publisher = client(cluster.ports[1]!);
    try {
      await Promise.all([connect(subscriber), connect(publisher)]);
      const got = new Collector();
      const ch = subscriber.channels.get('through-restart');
      await ch.subscribe(got.listener);
      const updates: Ably.ChannelStateChange[] = [];
      ch.on('update', (change) => updates.push(change));
      for (let i = 0; i < 5; i++) await publisher.channels.get('through-restart').publish('n', String(i));
      await got.waitFor(5);
      await redis.restart();
      // Publishing may fail while the nodes reconnect: retry until it goes through.
      for (let i = 5; i < 10; i++) {
        for (let attempt = 0; ; attempt++) {
          try {
            await publisher.channels.get('through-restart').publish('n', String(i));
            break;
          } catch (err) {
            if (attempt > 50) throw err;
            await sleep(100);
          }
        }
      }
      await got.waitFor(10, 15_000);
      assert.deepEqual(
        got.items.map((m) => Number(dataOf(m))),
        range(10),
      );
      assert.equal(subscriber.connection.state, 'connected');
      // Redis lost the channel's state (no persistence here): the SDK is told continuity was lost.
      await eventually(() => updates.length > 0, 5000, 'an update with resumed:false');
      assert.equal(updates[0]!.resumed, false);
      assert.ok(
        lines.some((l) => l.includes('redis connection lost')),
        'the outage is logged',
      );
      assert.ok(
        lines.some((l) => l.includes('redis connection restored')),
        'the recovery is logged',
      );
    } finally {
      await closeAll(subscriber, publisher);
      await cluster.close();
    }
  });
  it('state lost while a node was not listening: what was published since reaches its subscribers', async () => {
    const cluster = await startCluster(redis, 2);
    const subscriber = client(cluster.ports[0]!);
    const publisher = client(cluster.ports[1]!);
    try {
      await Promise.all([connect(subscriber), connect(publisher)]);
      const got = new Collector();
      await subscriber.channels.get('renewed').subscribe(got.listener);
      const channel = publisher.channels.get('renewed');
      for (let i = 0; i < 3; i++) await channel.publish('n', String(i));
      await got.waitFor(3);
      // Redis loses everything and drops its subscribers (they reconnect after ~200 ms): the next
      // publishes start a new life of the channel that no node hears of.
      await redis.command('FLUSHALL');
      await redis.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await channel.publish('n', '3');
      await channel.publish('n', '4');
      await sleep(800);
      // Node 0 hears of the new life with this one, and fills what came before it from the log.
      await channel.publish('n', '5');
      await got.waitFor(6, 10_000);
      await sleep(200);
      assert.deepEqual(
        got.items.map((m) => Number(dataOf(m))),
        range(6),
      );
    } finally {
      await closeAll(subscriber, publisher);
      await cluster.close();
    }
  });
});
