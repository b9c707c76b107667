/**
 * Three nodes on one Redis, in this process, with the official SDK spread across them: pub/sub,
 * presence and history across nodes; resumes that land on another node; comet requests of one
 * connection sent round-robin to different nodes (no sticky sessions); drain.
 */
import { bytesOf, dataOf } from './helpers/field.js';
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import * as Ably from 'ably';
import { Action } from '@encke/protocol';
import { Collector, closeAll, connect, connectionState, sleep } from './helpers/ably.js';
import { Balancer } from './helpers/balancer.js';
import { startCluster, type TestCluster } from './helpers/cluster.js';
import { RawClient } from './helpers/raw-ws.js';
import { TestRedis } from './helpers/redis.js';
import { KEYS } from './helpers/server.js';

const FAST_RETRY = { disconnectedRetryTimeout: 100, suspendedRetryTimeout: 100 } as const;

function client(port: number, options: Ably.ClientOptions = {}): Ably.Realtime {
  return new Ably.Realtime({
    key: KEYS.full,
    endpoint: '127.0.0.1',
    port,
    tls: false,
    disableConnectivityCheck: true,
    logLevel: 0,
    ...options,
  });
}

function numbers(items: Ably.Message[]): number[] {
  return items.map((m) => Number(dataOf(m)));
}

describe('cluster of three nodes on Redis', () => {
  const redis = TestRedis.perSuite();
  let cluster: TestCluster;
  beforeEach(async () => {
    cluster = await startCluster(redis, 3);
  });
  afterEach(async () => {
    await cluster.close();
  });

  it('delivers messages, presence and history across nodes', async () => {
    const [p0, p1, p2] = cluster.ports as [number, number, number];
    const a = client(p0, { clientId: 'a', useBinaryProtocol: true });
    const b = client(p1, { clientId: 'b', useBinaryProtocol: false });
    const c = client(p2, { clientId: 'c', transports: ['comet'] });
    try {
      await Promise.all([a, b, c].map(connect));
      const gotA = new Collector();
      const gotC = new Collector();
      await a.channels.get('x').subscribe(gotA.listener);
      await c.channels.get('x').subscribe(gotC.listener);
      await b.channels.get('x').publish('n', 'from b on node1');
      await a.channels.get('x').publish('bin', Buffer.from([1, 2, 3]));
      await gotA.waitFor(2);
      await gotC.waitFor(2);
      assert.deepEqual(
        gotC.items.map((m) => m.name),
        ['n', 'bin'],
      );
      assert.deepEqual([...bytesOf(dataOf(gotC.items[1]))], [1, 2, 3]);

      const seen = new Collector<Ably.PresenceMessage>();
      await c.channels.get('x').presence.subscribe(seen.listener);
      await a.channels.get('x').presence.enter('a here');
      await b.channels.get('x').presence.enter('b here');
      await seen.waitFor(2);
      assert.deepEqual((await c.channels.get('x').presence.get()).map((m) => m.clientId).sort(), ['a', 'b']);
      await b.channels.get('x').presence.leave();
      await seen.waitFor(3);
      assert.equal(seen.items[2]!.action, 'leave');

      const rest = new Ably.Rest({ key: KEYS.full, endpoint: '127.0.0.1', port: p2, tls: false, logLevel: 0 });
      const history = await rest.channels.get('x').history({ direction: 'forwards' });
      assert.deepEqual(
        history.items.map((m) => m.name),
        ['n', 'bin'],
      );

      // Publishing on behalf of a realtime connection another node holds.
      await rest.channels.get('x').publish({ name: 'on-behalf', data: 'via rest', connectionKey: a.connection.key! });
      await gotC.waitFor(3);
      assert.equal(gotC.items[2]!.connectionId, a.connection.id);
      assert.equal(gotC.items[2]!.clientId, 'a');
      await assert.rejects(
        rest.channels.get('x').publish({ name: 'forged', connectionKey: `${a.connection.id}!AAAAAAAAAAAAAAAA1` }),
        (e: Ably.ErrorInfo) => e.code === 40006,
      );
      const status = await rest.channels.get('x').status();
      assert.equal(status.status.occupancy.metrics.connections, 3, 'occupancy summed over the nodes');
      assert.equal(status.status.occupancy.metrics.presenceMembers, 1);
    } finally {
      await closeAll(a, b, c);
    }
  });

  it("pipelines one connection's publishes through Redis, in order, each acknowledged", async () => {
    for (const useBinaryProtocol of [false, true]) {
      const publisher = client(cluster.ports[0]!, { useBinaryProtocol });
      const subscriber = client(cluster.ports[1]!, { useBinaryProtocol });
      const channel = `burst-${useBinaryProtocol ? 'msgpack' : 'json'}`;
      try {
        await Promise.all([connect(publisher), connect(subscriber)]);
        const got = new Collector();
        await subscriber.channels.get(channel).subscribe(got.listener);
        // 300 publishes without waiting: more than the pipeline holds at once, all ACKed.
        const ch = publisher.channels.get(channel);
        await Promise.all(Array.from({ length: 300 }, (_, i) => ch.publish('n', String(i))));
        await got.waitFor(300);
        const expected = Array.from({ length: 300 }, (_, i) => i);
        assert.deepEqual(numbers(got.items), expected, 'delivered in publish order');
        const rest = new Ably.Rest({
          key: KEYS.full,
          endpoint: '127.0.0.1',
          port: cluster.ports[2]!,
          tls: false,
          logLevel: 0,
        });
        const history = await rest.channels.get(channel).history({ direction: 'forwards', limit: 1000 });
        assert.deepEqual(numbers(history.items), expected, 'stored once each, in order');
      } finally {
        await closeAll(publisher, subscriber);
      }
    }
  });

  it('resumes a WebSocket connection on another node with nothing lost', async () => {
    const balancer = await Balancer.start(cluster.ports, 'tcp');
    const publisher = client(cluster.ports[2]!);
    const subscriber = client(balancer.port, { ...FAST_RETRY });
    try {
      await Promise.all([connect(publisher), connect(subscriber)]);
      const id = subscriber.connection.id;
      const got = new Collector();
      const reattached: Ably.ChannelStateChange[] = [];
      const ch = subscriber.channels.get('resume-x');
      await ch.subscribe(got.listener);
      ch.on('attached', (change) => reattached.push(change));
      let sent = 0;
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 5; i++) await publisher.channels.get('resume-x').publish('n', String(sent++));
        const dropped = connectionState(subscriber, 'disconnected');
        balancer.killAll();
        for (let i = 0; i < 5; i++) await publisher.channels.get('resume-x').publish('n', String(sent++));
        await dropped;
        await connectionState(subscriber, 'connected');
      }
      await got.waitFor(sent);
      await sleep(200);
      assert.deepEqual(
        numbers(got.items),
        Array.from({ length: sent }, (_, i) => i),
      );
      assert.equal(subscriber.connection.id, id, 'the same connection, resumed');
      assert.ok(reattached.length >= 4 && reattached.every((c) => c.resumed), 'every re-attach resumed');
      assert.ok(new Set(balancer.routed).size >= 3, 'the connection moved between nodes');
    } finally {
      await closeAll(publisher, subscriber);
      await balancer.close();
    }
  });

  it('a publish whose ACK was lost when its node went down is not published twice by the node that takes over', async () => {
    const balancer = await Balancer.start([cluster.ports[0]!], 'tcp');
    const publisher = client(balancer.port, { ...FAST_RETRY });
    const subscriber = client(cluster.ports[1]!);
    try {
      await Promise.all([connect(publisher), connect(subscriber)]);
      const id = publisher.connection.id;
      const got = new Collector();
      await subscriber.channels.get('once').subscribe(got.listener);
      await publisher.channels.get('once').publish('n', 'before');
      // Node 0 appends the next publish (and records its msgSerial) but its ACK never arrives.
      balancer.holdDownstream();
      const pending = publisher.channels.get('once').publish('n', 'exactly-once');
      await got.waitFor(2);
      balancer.setUpstreams([cluster.ports[2]!]);
      await cluster.nodes[0]!.close();
      balancer.killAll();
      await pending;
      await publisher.channels.get('once').publish('n', 'after');
      await got.waitFor(3);
      await sleep(300);
      assert.deepEqual(
        got.items.map((m) => dataOf(m)),
        ['before', 'exactly-once', 'after'],
      );
      assert.equal(publisher.connection.id, id, 'resumed on node 2 with the same connection');
    } finally {
      await closeAll(publisher, subscriber);
      await balancer.close();
    }
  });

  it('slows a publisher that outpaces Redis instead of dropping it (its sends wait in TCP)', async () => {
    // A small queue bound and large messages: without reading less, 1,000 publishes sent at once
    // would overrun 200 waiting messages long before Redis answered them (42910, connection failed).
    const small = await startCluster(redis, 1, { maxInboundQueue: 200 });
    const raw = await RawClient.connect(small.ports[0]!, KEYS.full, 'json', '&echo=false');
    try {
      raw.send({ action: Action.ATTACH, channel: 'flood' });
      await raw.next(Action.ATTACHED);
      const data = 'x'.repeat(2000);
      for (let i = 0; i < 1000; i++)
        raw.send({ action: Action.MESSAGE, channel: 'flood', msgSerial: i, messages: [{ data }] });
      await raw.next(Action.ACK, 30_000, (pm) => pm.msgSerial! + (pm.count ?? 1) === 1000);
      const acked = raw.log.filter((pm) => pm.action === Action.ACK).reduce((n, pm) => n + (pm.count ?? 1), 0);
      assert.equal(acked, 1000, 'every publish acknowledged');
      assert.deepEqual(
        raw.log.filter((pm) => pm.action !== Action.ACK && pm.action !== Action.HEARTBEAT).map((pm) => pm.action),
        [Action.CONNECTED, Action.ATTACHED],
      );
    } finally {
      raw.close();
      await small.close();
    }
  });

  it('serves a comet connection whose requests go round-robin to different nodes', async () => {
    const balancer = await Balancer.start(cluster.ports, 'http');
    const cometClient = client(balancer.port, { transports: ['comet'], clientId: 'roamer' });
    const other = client(cluster.ports[0]!, { clientId: 'other' });
    try {
      await Promise.all([connect(cometClient), connect(other)]);
      const toComet = new Collector();
      const toOther = new Collector();
      await cometClient.channels.get('rr').subscribe(toComet.listener);
      await other.channels.get('rr').subscribe(toOther.listener);
      for (let i = 0; i < 10; i++) {
        await cometClient.channels.get('rr').publish('from-comet', String(i));
        await other.channels.get('rr').publish('from-other', String(i));
      }
      await toComet.waitFor(20);
      await toOther.waitFor(20);
      assert.deepEqual(
        toComet.items.filter((m) => m.name === 'from-other').map((m) => dataOf(m)),
        Array.from({ length: 10 }, (_, i) => String(i)),
      );
      assert.deepEqual(
        toOther.items.filter((m) => m.name === 'from-comet').map((m) => dataOf(m)),
        Array.from({ length: 10 }, (_, i) => String(i)),
      );
      // The ACK of the enter can reach the comet client before the event reaches node 0's subscriber.
      const entered = new Collector<Ably.PresenceMessage>();
      await other.channels.get('rr').presence.subscribe('enter', entered.listener);
      await cometClient.channels.get('rr').presence.enter();
      await entered.waitFor(1);
      assert.deepEqual(
        (await other.channels.get('rr').presence.get()).map((m) => m.clientId),
        ['roamer'],
      );
      assert.ok(new Set(balancer.routed).size === 3, 'requests reached every node');
    } finally {
      await closeAll(cometClient, other);
      await balancer.close();
    }
  });

  it('drains a node: its clients resume on the others with nothing lost', async () => {
    const balancer = await Balancer.start([cluster.ports[0]!], 'tcp');
    const subscriber = client(balancer.port, { ...FAST_RETRY, clientId: 'drained' });
    const publisher = client(cluster.ports[2]!);
    const watcher = client(cluster.ports[1]!);
    try {
      await Promise.all([connect(subscriber), connect(publisher), connect(watcher)]);
      const id = subscriber.connection.id;
      const got = new Collector();
      await subscriber.channels.get('drain').subscribe(got.listener);
      await subscriber.channels.get('drain').presence.enter('still here');
      const leaves = new Collector<Ably.PresenceMessage>();
      await watcher.channels.get('drain').presence.subscribe('leave', leaves.listener);
      for (let i = 0; i < 5; i++) await publisher.channels.get('drain').publish('n', String(i));
      balancer.setUpstreams([cluster.ports[1]!]);
      await cluster.nodes[0]!.drain(2000);
      for (let i = 5; i < 10; i++) await publisher.channels.get('drain').publish('n', String(i));
      await got.waitFor(10);
      assert.deepEqual(
        numbers(got.items),
        Array.from({ length: 10 }, (_, i) => i),
      );
      assert.equal(subscriber.connection.id, id);
      await sleep(2500);
      assert.equal(leaves.items.length, 0, 'the member stayed present across the move');
      assert.deepEqual(
        (await watcher.channels.get('drain').presence.get()).map((m) => m.clientId),
        ['drained'],
      );
    } finally {
      await closeAll(subscriber, publisher, watcher);
      await balancer.close();
    }
  });

  it("makes a dead node's members leave when their connection does not come back", async () => {
    const member = client(cluster.ports[0]!, { clientId: 'ghost', ...FAST_RETRY });
    const watcher = client(cluster.ports[1]!);
    try {
      await Promise.all([connect(member), connect(watcher)]);
      await member.channels.get('ghosts').presence.enter();
      const leaves = new Collector<Ably.PresenceMessage>();
      await watcher.channels.get('ghosts').presence.subscribe('leave', leaves.listener);
      // The node stops without a goodbye to its clients (as if it died); the client cannot come back.
      member.connection.off();
      await cluster.nodes[0]!.close();
      member.close();
      await leaves.waitFor(1, 10_000);
      assert.equal(leaves.items[0]!.clientId, 'ghost');
    } finally {
      await closeAll(member, watcher);
    }
  });
});
