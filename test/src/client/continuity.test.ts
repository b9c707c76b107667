/**
 * Continuity under a dropping network, per transport: one client reaches the server through a
 * proxy that cuts every connection every ~0.5 s, while 1,000 numbered messages flow each way.
 * Every message must arrive exactly once and in order, both ways (resume with the same msgSerials,
 * re-attach from channelSerial). Also recover: a new client continues a connection from its
 * recovery key, as after a page reload.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Message, Realtime } from '@encke/client';
import { Collector } from '../helpers/ably.js';
import { assertExactlyOnceInOrder } from '../helpers/numbered.js';
import { CLIENT_VARIANTS, closeClients, enckeClient, reach } from '../helpers/encke-client.js';
import { KillableProxy } from '../helpers/proxy.js';
import { startServer, type TestServer } from '../helpers/server.js';

const COUNT = 1000;
const DROP_EVERY_MS = 500;

/** Spread over this long, so that the flow spans several cuts whatever the transport's speed. */
const FLOW_MS = 4000;

/** Publishes 0…count-1 in order, paced over FLOW_MS, a few in flight at a time. */
async function publishNumbered(client: Realtime, channel: string, count: number): Promise<void> {
  const ch = client.channels.get(channel);
  const inFlight = new Set<Promise<void>>();
  const start = Date.now();
  for (let i = 0; i < count; i++) {
    const due = start + (i * FLOW_MS) / count - Date.now();
    if (due > 0) await new Promise((r) => setTimeout(r, due));
    const p: Promise<void> = ch.publish('n', i).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 16) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

describe('@encke/client continuity', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer({ maxIdleInterval: 2000 });
  });
  after(async () => {
    await ts.close();
  });

  for (const v of CLIENT_VARIANTS.filter((x) => x.format === 'json' || x.transport === 'web_socket')) {
    it(
      `${v.name}: 1,000 messages each way through a proxy cutting every ${DROP_EVERY_MS} ms, exactly once, in order`,
      { timeout: 90_000 },
      async () => {
        const proxy = await KillableProxy.start(ts.port);
        const channel = `continuity-${v.name.replace(/\s/g, '-')}`;
        const dropped = enckeClient(ts, v, { port: proxy.port, disconnectedRetryTimeout: 100 });
        const steady = enckeClient(ts, v);
        const timer = setInterval(() => proxy.killAll(), DROP_EVERY_MS);
        try {
          await Promise.all([reach(dropped, 'connected'), reach(steady, 'connected')]);
          const atDropped = new Collector<Message>();
          const atSteady = new Collector<Message>();
          await dropped.channels.get(channel).subscribe('n', atDropped.listener);
          await steady.channels.get(channel).subscribe('n', atSteady.listener);
          const id = dropped.connection.id;
          // Each client hears its own messages too (echo), so each collector gets both streams.
          await Promise.all([publishNumbered(dropped, channel, COUNT), publishNumbered(steady, channel, COUNT)]);
          await Promise.all([atDropped.waitFor(2 * COUNT, 60_000), atSteady.waitFor(2 * COUNT, 60_000)]);
          for (const [who, col] of [
            ['dropped client', atDropped],
            ['steady client', atSteady],
          ] as const) {
            assertExactlyOnceInOrder(
              col.items.filter((m) => m.connectionId === id).map((m) => m.data as number),
              COUNT,
              `${who}, from the dropped client`,
            );
            assertExactlyOnceInOrder(
              col.items.filter((m) => m.connectionId !== id).map((m) => m.data as number),
              COUNT,
              `${who}, from the steady client`,
            );
          }
          assert.ok(proxy.kills >= FLOW_MS / DROP_EVERY_MS / 2, `only ${proxy.kills} cuts happened`);
          assert.equal(dropped.connection.id, id, 'every reconnection resumed the same connection');
        } finally {
          clearInterval(timer);
          await closeClients(dropped, steady);
          await proxy.close();
        }
      },
    );
  }

  for (const v of CLIENT_VARIANTS.filter((x) => x.format === 'json')) {
    it(`${v.name}: recover continues a connection and its channels from the recovery key`, async () => {
      const proxy = await KillableProxy.start(ts.port);
      const old = enckeClient(ts, v, { port: proxy.port, disconnectedRetryTimeout: 60_000 });
      const publisher = enckeClient(ts, v);
      try {
        await Promise.all([reach(old, 'connected'), reach(publisher, 'connected')]);
        const seenBefore = new Collector<Message>();
        await old.channels.get('recovered').subscribe(seenBefore.listener);
        await publisher.channels.get('recovered').publish('m', 'before');
        await seenBefore.waitFor(1);
        const key = old.connection.createRecoveryKey();
        assert.ok(key);
        // The page goes away without closing: its network just stops.
        proxy.block();
        await old.connection.once('disconnected');
        await publisher.channels.get('recovered').publish('m', 'while away');
        const fresh = enckeClient(ts, v, { recover: key });
        try {
          const change = await reach(fresh, 'connected');
          assert.equal(change?.reason, undefined);
          assert.equal(fresh.connection.id, old.connection.id);
          const got = new Collector<Message>();
          const ch = fresh.channels.get('recovered');
          await ch.subscribe(got.listener);
          await got.waitFor(1);
          assert.deepEqual(
            got.items.map((m) => m.data),
            ['while away'],
          );
        } finally {
          await closeClients(fresh);
        }
      } finally {
        await closeClients(old, publisher);
        await proxy.close();
      }
    });
  }
});

/**
 * Chromium's silent retry, reproduced in Node with a `fetch` that does what the browser does when
 * a reused keep-alive connection is cut before any answer byte: it sends the same GET again and
 * hands the page only the retry's answer. Here every other recv's answer is read and thrown away
 * and the request made again. With acknowledged polling the retry confirms the same position and
 * the server writes the lost frames again; without `ack` (stripped from the URL: what a client
 * that does not acknowledge sends) the thrown-away answers' messages are gone, which shows that
 * the emulation does lose answers.
 */
describe('@encke/client acknowledged polling: a recv answer lost to a silent browser retry', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer({});
  });
  after(() => ts.close());

  const RETRY_EVERY = 2;
  const N = 200;

  /** A fetch that answers every RETRY_EVERY-th recv from a second, identical request. */
  function retryingFetch(stripAck: boolean): { fetch: typeof fetch; retries: () => number } {
    let recvs = 0;
    let retries = 0;
    const impl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      let url = String(input);
      if (!url.includes('/recv')) return fetch(input, init);
      if (stripAck) url = url.replace(/&ack=\d+/, '');
      if (++recvs % RETRY_EVERY !== 0) return fetch(url, init);
      const first = await fetch(url, init);
      await first.arrayBuffer();
      retries++;
      return fetch(url, init);
    };
    return { fetch: impl as typeof fetch, retries: () => retries };
  }

  async function run(
    v: (typeof CLIENT_VARIANTS)[number],
    stripAck: boolean,
  ): Promise<{ got: number[]; retries: number }> {
    const emulation = retryingFetch(stripAck);
    const channel = `silent-retry-${v.name.replace(/\s/g, '-')}-${stripAck}`;
    const receiver = enckeClient(ts, v, { fetch: emulation.fetch });
    const publisher = enckeClient(ts, { name: 'ws', transport: 'web_socket', format: 'json' });
    try {
      await Promise.all([reach(receiver, 'connected'), reach(publisher, 'connected')]);
      const got = new Collector<Message>();
      await receiver.channels.get(channel).subscribe('n', got.listener);
      const ch = publisher.channels.get(channel);
      for (let i = 0; i < N; i += 5) {
        await ch.publish(Array.from({ length: 5 }, (_, k) => ({ name: 'n', data: i + k })));
        await new Promise((r) => setTimeout(r, 25));
      }
      await got.waitFor(N, stripAck ? 3000 : 20_000).catch(() => undefined);
      return { got: got.items.map((m) => m.data as number), retries: emulation.retries() };
    } finally {
      await closeClients(receiver, publisher);
    }
  }

  for (const v of CLIENT_VARIANTS.filter(
    (x) => x.transport === 'xhr_polling' || (x.transport === 'polling' && x.format === 'json'),
  )) {
    it(
      `${v.name}: every message exactly once, in order, although every other recv answer is lost`,
      { timeout: 60_000 },
      async () => {
        const { got, retries } = await run(v, false);
        assert.ok(retries >= 5, `only ${retries} retries`);
        assert.deepEqual(
          got,
          Array.from({ length: N }, (_, i) => i),
        );
      },
    );
  }

  it(
    'without ack the same emulation loses messages (what acknowledged polling prevents)',
    { timeout: 60_000 },
    async () => {
      const { got, retries } = await run(
        CLIENT_VARIANTS.find((x) => x.transport === 'xhr_polling' && x.format === 'json')!,
        true,
      );
      assert.ok(retries >= 5, `only ${retries} retries`);
      assert.ok(got.length < N, `expected losses, got all ${got.length}`);
    },
  );
});
