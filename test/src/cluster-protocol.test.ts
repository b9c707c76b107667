/**
 * Delta compression, message updates/appends and annotations across two nodes on one Redis, with
 * the official SDK on each node: each node encodes its own delta chain and subscribers decode the
 * published stream exactly; changes made concurrently on both nodes to one message all land, once
 * each, in one order every subscriber sees (the channel's serials); annotations from both nodes
 * sum up in one summary.
 */
import { dataOf, stringOf } from './helpers/field.js';
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import * as Ably from 'ably';
import * as vcdiffDecoder from '@ably/vcdiff-decoder';
import { Collector, closeAll, connect } from './helpers/ably.js';
import { startCluster, type TestCluster } from './helpers/cluster.js';
import { TestRedis } from './helpers/redis.js';
import { KEYS } from './helpers/server.js';

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

function restOn(port: number, options: Ably.ClientOptions = {}): Ably.Rest {
  return new Ably.Rest({ key: KEYS.full, endpoint: '127.0.0.1', port, tls: false, logLevel: 0, ...options });
}

/** Counts the deltas the SDK decodes. */
function countingDecoder(): { decode: typeof vcdiffDecoder.decode; calls: () => number } {
  let calls = 0;
  return {
    decode: (delta: Uint8Array, base: Uint8Array) => {
      calls++;
      return vcdiffDecoder.decode(delta, base);
    },
    calls: () => calls,
  };
}

describe('protocol features across two nodes on Redis', () => {
  const redis = TestRedis.perSuite();
  let cluster: TestCluster;
  beforeEach(async () => {
    cluster = await startCluster(redis, 2);
  });
  afterEach(async () => {
    await cluster.close();
  });

  it('delivers deltas encoded on each node that decode to the published stream', async () => {
    const [p0, p1] = cluster.ports as [number, number];
    const d0 = countingDecoder();
    const d1 = countingDecoder();
    const publisher = client(p0, { useBinaryProtocol: true });
    const a = client(p0, { plugins: { vcdiff: d0 }, useBinaryProtocol: false });
    const b = client(p1, { plugins: { vcdiff: d1 }, transports: ['comet'] });
    try {
      await Promise.all([publisher, a, b].map(connect));
      const gotA = new Collector();
      const gotB = new Collector();
      await a.channels.get('deltas', { params: { delta: 'vcdiff' } }).subscribe(gotA.listener);
      await b.channels.get('deltas', { params: { delta: 'vcdiff' } }).subscribe(gotB.listener);
      const docs = Array.from({ length: 30 }, (_, i) => ({
        seq: i,
        rows: Array.from({ length: 30 }, (__, k) => ({ k, v: k === i % 30 ? i : 0 })),
      }));
      for (const doc of docs) await publisher.channels.get('deltas').publish('doc', doc);
      await gotA.waitFor(docs.length);
      await gotB.waitFor(docs.length);
      assert.deepEqual(
        gotA.items.map((m) => dataOf(m)),
        docs,
      );
      assert.deepEqual(
        gotB.items.map((m) => dataOf(m)),
        docs,
      );
      assert.ok(d0.calls() >= docs.length - 2, `node 0 sent deltas (${d0.calls()} decoded)`);
      assert.ok(d1.calls() >= docs.length - 2, `node 1 sent deltas (${d1.calls()} decoded)`);
    } finally {
      await closeAll(publisher, a, b);
    }
  });

  it('applies concurrent appends and an update from both nodes to one message, each once, in one order', async () => {
    const [p0, p1] = cluster.ports as [number, number];
    const w0 = client(p0, { useBinaryProtocol: true });
    const w1 = client(p1, { useBinaryProtocol: false });
    const s0 = client(p0);
    const s1 = client(p1, { transports: ['comet'] });
    try {
      await Promise.all([w0, w1, s0, s1].map(connect));
      const name = 'mutable:across';
      const got0 = new Collector<Ably.InboundMessage>();
      const got1 = new Collector<Ably.InboundMessage>();
      await s0.channels.get(name).subscribe(got0.listener);
      await s1.channels.get(name).subscribe(got1.listener);
      const { serials } = await w0.channels.get(name).publish('stream', '');
      const serial = serials[0]!;
      const fragments = Array.from({ length: 20 }, (_, i) => `<${i}>`);
      await Promise.all(
        fragments.map((f, i) =>
          (i % 2 === 0 ? w0 : w1).channels.get(name).appendMessage({ serial, data: f } as Ably.Message),
        ),
      );
      await w1.channels.get(name).updateMessage({ serial, name: 'done' } as Ably.Message, { description: 'finished' });
      await got0.waitFor(22);
      await got1.waitFor(22);
      const order = (items: Ably.InboundMessage[]): string[] => items.map((m) => `${m.action}:${m.version.serial}`);
      assert.deepEqual(order(got1.items), order(got0.items), 'both nodes deliver the same changes in the same order');
      const appendsSeen = got0.items.filter((m) => m.action === 'message.append').map((m) => stringOf(dataOf(m)));
      assert.deepEqual([...appendsSeen].sort(), [...fragments].sort(), 'each append once');
      const latest = await restOn(p1).channels.get(name).getMessage(serial);
      assert.equal(dataOf(latest), appendsSeen.join(''), 'the message accumulated the appends in the order delivered');
      assert.equal(latest.name, 'done');
      assert.equal(latest.version?.description, 'finished');
      const versions = await restOn(p0, { useBinaryProtocol: false }).channels.get(name).getMessageVersions(serial);
      assert.equal(versions.items.length, 22);
      const serialsInOrder = versions.items.map((v) => v.version!.serial!);
      assert.deepEqual([...serialsInOrder].sort(), serialsInOrder, 'version serials order the changes');
    } finally {
      await closeAll(w0, w1, s0, s1);
    }
  });

  it('sums annotations from both nodes into one summary, delivered to both', async () => {
    const [p0, p1] = cluster.ports as [number, number];
    const modes: Ably.ChannelMode[] = ['publish', 'subscribe', 'annotation_publish', 'annotation_subscribe'];
    const users = Array.from({ length: 8 }, (_, i) =>
      client(i % 2 === 0 ? p0 : p1, { clientId: `u${i}`, useBinaryProtocol: i % 4 < 2 }),
    );
    const watcher = client(p1, { transports: ['comet'] });
    try {
      await Promise.all([...users, watcher].map(connect));
      const name = 'mutable:reactions';
      const annotations = new Collector<Ably.Annotation>();
      const messages = new Collector<Ably.InboundMessage>();
      const ch = watcher.channels.get(name, { modes });
      await ch.annotations.subscribe(annotations.listener);
      await ch.subscribe(messages.listener);
      const { serials } = await users[0]!.channels.get(name).publish('post', 'hello');
      await Promise.all(
        users.map((u, i) =>
          u.channels
            .get(name)
            .annotations.publish(serials[0]!, { type: 'reaction:unique.v1', name: i < 5 ? '👍' : '🎉' }),
        ),
      );
      await annotations.waitFor(users.length);
      await messages.waitFor(1 + users.length);
      const expected = { '👍': ['u0', 'u1', 'u2', 'u3', 'u4'], '🎉': ['u5', 'u6', 'u7'] };
      const summary = (await restOn(p0).channels.get(name).getMessage(serials[0]!)).annotations!.summary[
        'reaction:unique.v1'
      ] as Record<string, { total: number; clientIds: string[] }>;
      for (const [emoji, ids] of Object.entries(expected)) {
        assert.equal(summary[emoji]!.total, ids.length);
        assert.deepEqual([...summary[emoji]!.clientIds].sort(), ids);
      }
      const lastDelivered = messages.items[messages.items.length - 1]!.annotations.summary['reaction:unique.v1'];
      assert.deepEqual(lastDelivered, summary, 'the last summary delivered is the final one');
      const serialsSeen = annotations.items.map((a) => a.serial!);
      assert.deepEqual([...serialsSeen].sort(), serialsSeen, 'annotations arrive in serial order');
    } finally {
      await closeAll(...users, watcher);
    }
  });
});
