/**
 * Subscription filters with the official SDK (`channels.getDerived(name, {filter})`, which attaches
 * to `[filter=<base64>]name`) over WebSocket (JSON, msgpack) and comet (streaming, long polling): selection by name and by
 * `extras.headers`, two subscribers of one filter and one of another on the same channel, the
 * capability Ably requires (`[filter]name`, `[*]name` or `[*]*`), and a bad expression (40010).
 */
import { dataOf, extrasOf } from './helpers/field.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as Ably from 'ably';
import type { AppConfig } from '@encke/server';
import { COMET_VARIANTS, Collector, WS_VARIANTS, closeAll, connect, realtime } from './helpers/ably.js';
import { startServer, type TestServer } from './helpers/server.js';

const APP = 'filterapp';
const KEY = `${APP}.all:all-secret-000000001`;
const PLAIN_KEY = `${APP}.plain:plain-secret-0000001`;
const APPS: AppConfig[] = [
  {
    id: APP,
    keys: [
      { key: KEY, capability: { '[*]*': ['*'] } },
      { key: PLAIN_KEY, capability: { '*': ['*'] } },
    ],
  },
];

const STRAWBERRY_ICE = 'name == `"ice-cream"` && headers.flavor == `"strawberry"`';
const CHEAP = "headers.cost < `50` || name == 'free'";

const PUBLISHED: Ably.Message[] = [
  { name: 'ice-cream', data: '1', extras: { headers: { flavor: 'strawberry', cost: 35 } } },
  { name: 'ice-cream', data: '2', extras: { headers: { flavor: 'chocolate', cost: 40 } } },
  { name: 'sorbet', data: '3', extras: { headers: { flavor: 'strawberry', cost: 60 } } },
  { name: 'free', data: '4' },
  { name: 'ice-cream', data: '5', extras: { headers: { flavor: 'strawberry', cost: 70 } } },
  { name: 'tea', data: '6', extras: { headers: { cost: 'cheap' } } },
];

for (const variant of [...WS_VARIANTS, ...COMET_VARIANTS]) {
  describe(`subscription filters: ${variant.name}`, () => {
    let ts: TestServer;
    let n = 0;
    before(async () => {
      ts = await startServer({ apps: APPS });
    });
    after(async () => {
      await ts.close();
    });

    it('deliver to each filter the messages it selects by name and by header', async () => {
      const name = `scoops-${variant.format}-${variant.transport}-${++n}`;
      const publisher = await connect(realtime(ts, variant, { key: KEY }));
      const a = await connect(realtime(ts, variant, { key: KEY }));
      const b = await connect(realtime(ts, variant, { key: KEY }));
      try {
        const got = { a1: new Collector(), a2: new Collector(), b: new Collector(), all: new Collector() };
        const chA1 = a.channels.getDerived(name, { filter: STRAWBERRY_ICE });
        await chA1.subscribe(got.a1.listener);
        await b.channels.getDerived(name, { filter: STRAWBERRY_ICE }).subscribe(got.a2.listener);
        await b.channels.getDerived(name, { filter: CHEAP }).subscribe(got.b.listener);
        await a.channels.get(name).subscribe(got.all.listener);
        assert.deepEqual([...chA1.modes], ['subscribe']);
        const pub = publisher.channels.get(name);
        for (const m of PUBLISHED) await pub.publish(m);
        await got.all.waitFor(PUBLISHED.length);
        await got.a1.waitFor(2);
        await got.a2.waitFor(2);
        await got.b.waitFor(3);
        const datas = (c: Collector): unknown[] => c.items.map((m) => dataOf(m));
        assert.deepEqual(datas(got.all), ['1', '2', '3', '4', '5', '6']);
        assert.deepEqual(datas(got.a1), ['1', '5']);
        assert.deepEqual(datas(got.a2), ['1', '5']);
        assert.deepEqual(datas(got.b), ['1', '2', '4']);
        assert.deepEqual(extrasOf(got.a1.items[0]!), extrasOf(PUBLISHED[0]!));
      } finally {
        await closeAll(publisher, a, b);
      }
    });

    it('refuse a bad expression (40010) and a key without [filter] capability (40160)', async () => {
      const client = await connect(realtime(ts, variant, { key: KEY }));
      const plain = await connect(realtime(ts, variant, { key: PLAIN_KEY }));
      try {
        await assert.rejects(
          client.channels.getDerived('bad', { filter: 'name ==' }).attach(),
          (e: Ably.ErrorInfo) => e.code === 40010,
        );
        await assert.rejects(
          plain.channels.getDerived('denied', { filter: CHEAP }).attach(),
          (e: Ably.ErrorInfo) => e.code === 40160,
        );
        await plain.channels.get('denied').attach();
      } finally {
        await closeAll(client, plain);
      }
    });
  });
}
