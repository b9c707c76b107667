/**
 * Continuity with the official SDK: transports killed abruptly (through a TCP proxy) while messages
 * flow, resume within and after connectionStateTtl, recover after a "page reload", rewind.
 * Run once per transport/format variant.
 */
import { dataOf } from '../helpers/field.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type * as Ably from 'ably';
import {
  Collector,
  closeAll,
  connect,
  connectionState,
  eventually,
  realtime,
  sleep,
  type Variant,
} from '../helpers/ably.js';
import { KillableProxy } from '../helpers/proxy.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** Client options for a client that reconnects fast (tests only). */
const FAST_RETRY = { disconnectedRetryTimeout: 100, suspendedRetryTimeout: 100, realtimeRequestTimeout: 3000 } as const;

function numbers(messages: Ably.Message[]): number[] {
  return messages.map((m) => Number(dataOf(m)));
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

export function continuityScenarios(variants: Variant[], label: string): void {
  for (const variant of variants) {
    describe(`${label}: ${variant.name}`, () => {
      let ts: TestServer;
      before(async () => {
        ts = await startServer();
      });
      after(async () => {
        await ts.close();
      });

      it('100 abrupt transport kills mid-stream: every subscriber gets every message exactly once, in order', async () => {
        const SUBSCRIBERS = 4;
        const TARGET_KILLS = 100;
        const proxies = await Promise.all(Array.from({ length: SUBSCRIBERS + 1 }, () => KillableProxy.start(ts.port)));
        const subscribers = proxies
          .slice(0, SUBSCRIBERS)
          .map((p) => realtime(ts, variant, { port: p.port, ...FAST_RETRY }));
        const publisher = realtime(ts, variant, { port: proxies[SUBSCRIBERS]!.port, ...FAST_RETRY });
        try {
          await Promise.all([...subscribers, publisher].map(connect));
          const ids = subscribers.map((s) => s.connection.id);
          const collectors = subscribers.map(() => new Collector());
          const reattachments: Ably.ChannelStateChange[][] = subscribers.map(() => []);
          await Promise.all(
            subscribers.map(async (s, i) => {
              const ch = s.channels.get('numbers');
              await ch.subscribe(collectors[i]!.listener);
              ch.on('attached', (change) => reattachments[i]!.push(change));
            }),
          );
          const channel = publisher.channels.get('numbers');
          const publishes: Promise<unknown>[] = [];
          let sent = 0;
          let publishing = true;
          const publishLoop = (async () => {
            while (publishing) {
              publishes.push(channel.publish('n', String(sent++)));
              await sleep(8);
            }
          })();
          let turn = 0;
          const totalKills = (): number => proxies.reduce((sum, p) => sum + p.kills, 0);
          while (totalKills() < TARGET_KILLS) {
            await sleep(60);
            // Mostly subscribers, every fifth turn the publisher (its unACKed publishes are re-sent).
            const proxy = turn % 5 === 4 ? proxies[SUBSCRIBERS]! : proxies[turn % SUBSCRIBERS]!;
            turn++;
            proxy.killAll();
          }
          publishing = false;
          await publishLoop;
          await Promise.all(publishes);
          await Promise.all(collectors.map((c) => c.waitFor(sent, 30_000)));
          await sleep(200); // anything duplicated would arrive now
          for (const [i, c] of collectors.entries()) {
            assert.deepEqual(numbers(c.items), range(sent), `subscriber ${i} got every message once, in order`);
            assert.equal(
              subscribers[i]!.connection.id,
              ids[i],
              `subscriber ${i} kept its connection (resumed every time)`,
            );
            assert.ok(reattachments[i]!.length > 0, `subscriber ${i} was re-attached`);
            for (const change of reattachments[i]!)
              assert.equal(change.resumed, true, `subscriber ${i} re-attached with continuity`);
          }
          assert.ok(totalKills() >= TARGET_KILLS);
        } finally {
          await closeAll(...subscribers, publisher);
          await Promise.all(proxies.map((p) => p.close()));
        }
      });

      it('re-sent unacknowledged publishes are not duplicated', async () => {
        const proxy = await KillableProxy.start(ts.port);
        const publisher = realtime(ts, variant, { port: proxy.port, ...FAST_RETRY });
        const subscriber = realtime(ts, variant);
        try {
          await Promise.all([connect(publisher), connect(subscriber)]);
          const got = new Collector();
          await subscriber.channels.get('resend').subscribe(got.listener);
          const channel = publisher.channels.get('resend');
          // The server receives the publish and delivers it, but its ACK never reaches the publisher:
          // the SDK re-sends the same msgSerial after resuming.
          proxy.holdDownstream();
          const first = channel.publish('m', 'once');
          await got.waitFor(1);
          proxy.killAll();
          const result = await first;
          await channel.publish('m', 'twice');
          await got.waitFor(2);
          await sleep(200);
          assert.deepEqual(
            got.items.map((m) => dataOf(m)),
            ['once', 'twice'],
          );
          assert.equal(result?.serials.length, 1);
        } finally {
          await closeAll(publisher, subscriber);
          await proxy.close();
        }
      });

      it('messages with their own id are delivered once when published again within the window', async () => {
        const publisher = await connect(realtime(ts, variant));
        const subscriber = await connect(realtime(ts, variant));
        try {
          const got = new Collector();
          await subscriber.channels.get('idempotent').subscribe(got.listener);
          const channel = publisher.channels.get('idempotent');
          const first = await channel.publish({ id: 'order-42', name: 'n', data: 'first' });
          const again = await channel.publish({ id: 'order-42', name: 'n', data: 'again' });
          await channel.publish({ id: 'order-43', name: 'n', data: 'next' });
          await got.waitFor(2);
          await sleep(200);
          assert.deepEqual(
            got.items.map((m) => [m.id, dataOf(m)]),
            [
              ['order-42', 'first'],
              ['order-43', 'next'],
            ],
          );
          assert.deepEqual(again?.serials, first?.serials, 'the retry is answered with the original serial');
        } finally {
          await closeAll(publisher, subscriber);
        }
      });

      it('recover after a page reload continues the channel without loss, with msgSerial continuity', async () => {
        const proxy = await KillableProxy.start(ts.port);
        const first = realtime(ts, variant, { port: proxy.port, clientId: 'reloader', ...FAST_RETRY });
        const publisher = await connect(realtime(ts, variant));
        const watcher = await connect(realtime(ts, variant));
        let second: Ably.Realtime | undefined;
        try {
          await connect(first);
          const before = new Collector();
          await first.channels.get('recover').subscribe(before.listener);
          const watched = new Collector();
          await watcher.channels.get('recover').subscribe(watched.listener);
          await first.channels.get('recover').publish('from-first', 'a');
          for (const n of ['0', '1', '2']) await publisher.channels.get('recover').publish('n', n);
          await before.waitFor(4);
          const recoveryKey = first.connection.createRecoveryKey();
          assert.ok(recoveryKey);
          const connectionId = first.connection.id;
          // The page goes away without a goodbye; messages keep coming meanwhile.
          proxy.block();
          await connectionState(first, 'disconnected');
          first.close();
          for (const n of ['3', '4', '5']) await publisher.channels.get('recover').publish('n', n);
          second = realtime(ts, variant, { recover: recoveryKey, clientId: 'reloader' });
          await connect(second);
          assert.equal(second.connection.id, connectionId, 'same connection recovered');
          const after = new Collector();
          const channel = second.channels.get('recover');
          await channel.subscribe(after.listener);
          await after.waitFor(3);
          assert.deepEqual(
            after.items.map((m) => dataOf(m)),
            ['3', '4', '5'],
          );
          // msgSerial continues from the recovery key: this publish is new, not a "duplicate".
          await channel.publish('from-second', 'b');
          await watched.waitFor(8);
          assert.deepEqual(watched.items.map((m) => dataOf(m)).slice(-1), ['b']);
        } finally {
          await closeAll(first, publisher, watcher, ...(second ? [second] : []));
          await proxy.close();
        }
      });

      it('rewinds N messages and a duration on a first attach, never again on a resume', async () => {
        const publisher = await connect(realtime(ts, variant));
        const proxy = await KillableProxy.start(ts.port);
        const reader = realtime(ts, variant, { port: proxy.port, ...FAST_RETRY });
        try {
          const pub = publisher.channels.get('rewind');
          for (const n of ['0', '1', '2', '3', '4']) await pub.publish('n', n);
          await connect(reader);
          const got = new Collector();
          const ch = reader.channels.get('rewind', { params: { rewind: '3' } });
          const attached = new Promise<Ably.ChannelStateChange>((resolve) => ch.once('attached', resolve));
          await ch.subscribe(got.listener);
          assert.equal((await attached).hasBacklog, true);
          await got.waitFor(3);
          assert.deepEqual(
            got.items.map((m) => dataOf(m)),
            ['2', '3', '4'],
          );
          assert.equal(ch.params.rewind, '3');
          // A resume must not rewind again: only the new message arrives.
          proxy.killAll();
          await connectionState(reader, 'disconnected');
          await connectionState(reader, 'connected');
          await pub.publish('n', '5');
          await got.waitFor(4);
          await sleep(200);
          assert.deepEqual(
            got.items.map((m) => dataOf(m)),
            ['2', '3', '4', '5'],
          );

          const timed = publisher.channels.get('rewind-time');
          await timed.publish('n', 'old');
          await sleep(700);
          await timed.publish('n', 'new1');
          await timed.publish('n', 'new2');
          const byTime = new Collector();
          await reader.channels.get('rewind-time', { params: { rewind: '500ms' } }).subscribe(byTime.listener);
          await byTime.waitFor(2);
          await sleep(100);
          assert.deepEqual(
            byTime.items.map((m) => dataOf(m)),
            ['new1', 'new2'],
          );

          const empty = reader.channels.get('rewind-empty', { params: { rewind: '10' } });
          const emptyAttached = new Promise<Ably.ChannelStateChange>((resolve) => empty.once('attached', resolve));
          await empty.attach();
          assert.equal((await emptyAttached).hasBacklog, false);
        } finally {
          await closeAll(publisher, reader);
          await proxy.close();
        }
      });
    });
  }

  describe(`${label}: after connectionStateTtl`, () => {
    for (const variant of variants) {
      it(`${variant.name}: a resume after the TTL reports 80008 and the channel resumed:false`, async () => {
        // A short maxIdleInterval: a comet client between two recvs is only known gone after it.
        const ts = await startServer({ connectionStateTtl: 800, channelLogMaxAge: 800, maxIdleInterval: 400 });
        const proxy = await KillableProxy.start(ts.port);
        const client = realtime(ts, variant, { port: proxy.port, ...FAST_RETRY });
        const publisher = realtime(ts, variant);
        try {
          await Promise.all([connect(client), connect(publisher)]);
          const oldId = client.connection.id;
          const got = new Collector();
          const ch = client.channels.get('ttl');
          await ch.subscribe(got.listener);
          await publisher.channels.get('ttl').publish('n', 'before');
          await got.waitFor(1);
          proxy.block();
          await publisher.channels.get('ttl').publish('n', 'lost');
          await sleep(2000);
          const reattached = new Promise<Ably.ChannelStateChange>((resolve) => ch.once('attached', resolve));
          const connected = connectionState(client, 'connected');
          proxy.unblock();
          const change = await connected;
          assert.equal(change?.reason?.code, 80008);
          assert.equal(client.connection.errorReason?.code, 80008);
          assert.notEqual(client.connection.id, oldId);
          const attached = await reattached;
          assert.equal(attached.resumed, false);
          await publisher.channels.get('ttl').publish('n', 'after');
          await got.waitFor(2);
          assert.deepEqual(
            got.items.map((m) => dataOf(m)),
            ['before', 'after'],
          );
          await eventually(() => ts.server.inspect.connections === 2, 2000, 'the expired connection is gone');
        } finally {
          await closeAll(client, publisher);
          await proxy.close();
          await ts.close();
        }
      });
    }
  });
}
