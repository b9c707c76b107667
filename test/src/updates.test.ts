/**
 * Message updates, deletes and appends with the official SDK (ably-js 2.28: `updateMessage`,
 * `deleteMessage`, `appendMessage`, `getMessage`, `getMessageVersions`) over WebSocket (JSON,
 * msgpack) and comet (streaming, long polling), and the same over REST in both formats: what
 * subscribers get (patch semantics, the append fragment, the version), what a rewind, history,
 * `getMessage` and the version list show (the message as it now stands, an append accumulated).
 */
import { bytesOf, dataOf, extrasOf } from './helpers/field.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as Ably from 'ably';
import * as vcdiffDecoder from '@ably/vcdiff-decoder';
import {
  COMET_VARIANTS,
  Collector,
  WS_VARIANTS,
  closeAll,
  connect,
  realtime,
  rest,
  type Format,
} from './helpers/ably.js';
import { jsonObject } from './helpers/json.js';
import { startServer, type TestServer } from './helpers/server.js';
import { sandboxAppOf } from './helpers/sandbox-app.js';

/** Waits for the first message of `channel` for which `pick` is true. */
function next(channel: Ably.RealtimeChannel, pick: (m: Ably.InboundMessage) => boolean): Promise<Ably.InboundMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no such message within 10 s')), 10_000);
    const listener = (m: Ably.InboundMessage): void => {
      if (!pick(m)) return;
      clearTimeout(timer);
      channel.unsubscribe(listener);
      resolve(m);
    };
    void channel.subscribe(listener);
  });
}

for (const variant of [...WS_VARIANTS, ...COMET_VARIANTS]) {
  describe(`message updates, deletes and appends: ${variant.name}`, () => {
    let ts: TestServer;
    let n = 0;
    before(async () => {
      ts = await startServer();
    });
    after(async () => {
      await ts.close();
    });
    const channelName = (what: string): string =>
      `mutable:${what}-${variant.format}-${variant.transport}-${variant.transportParams ? 'poll' : 'x'}-${++n}`;

    it('update and delete reach subscribers whole, with their versions; history and getMessage show the latest', async () => {
      const name = channelName('upd');
      const publisher = await connect(realtime(ts, variant, { clientId: 'author' }));
      const watcher = await connect(realtime(ts, variant));
      try {
        const pub = publisher.channels.get(name);
        const sub = watcher.channels.get(name);
        const all = new Collector<Ably.InboundMessage>();
        await sub.subscribe(all.listener);
        const { serials } = await pub.publish({
          name: 'greeting',
          data: { text: 'hello wrold' },
          extras: { headers: { lang: 'en' } },
        });
        const serial = serials[0]!;
        const [created] = await all.waitFor(1);
        assert.equal(created!.action, 'message.create');
        assert.equal(created!.serial, serial);

        const updated = next(sub, (m) => m.action === 'message.update');
        const { versionSerial } = await pub.updateMessage({ serial, data: { text: 'hello world' } } as Ably.Message, {
          description: 'typo',
          metadata: { reason: 'spelling' },
        });
        assert.ok(versionSerial && versionSerial > serial, `version serial ${versionSerial} after ${serial}`);
        const u = await updated;
        assert.equal(u.serial, serial);
        assert.equal(u.name, 'greeting', 'patch semantics: the name stays');
        assert.deepEqual(dataOf(u), { text: 'hello world' });
        assert.deepEqual(extrasOf(u), { headers: { lang: 'en' } });
        assert.equal(u.clientId, 'author');
        assert.equal(u.version.serial, versionSerial);
        assert.equal(u.version.clientId, 'author', 'an identified client changes messages as itself');
        assert.equal(u.version.description, 'typo');
        assert.deepEqual(u.version.metadata, { reason: 'spelling' });
        assert.ok((u.version.timestamp ?? 0) >= created!.timestamp);

        const deleted = next(sub, (m) => m.action === 'message.delete');
        const del = await pub.deleteMessage({ serial, data: {} } as Ably.Message, { description: 'gone' });
        const d = await deleted;
        assert.equal(d.version.serial, del.versionSerial);
        assert.deepEqual(dataOf(d), {});
        assert.equal(d.name, 'greeting');
        assert.ok(del.versionSerial! > versionSerial!);

        for (const format of ['json', 'msgpack'] as Format[]) {
          const r = rest(ts, format);
          const latest = await r.channels.get(name).getMessage(serial);
          assert.equal(latest.action, 'message.delete');
          assert.equal(latest.version?.serial, del.versionSerial);
          assert.equal(latest.version?.description, 'gone');
          const page = await r.channels.get(name).history();
          assert.equal(page.items.length, 1, 'history holds the message once, as it now stands');
          assert.equal(page.items[0]!.action, 'message.delete');
          assert.equal(page.items[0]!.serial, serial);
          const versions = await r.channels.get(name).getMessageVersions(serial);
          assert.deepEqual(
            versions.items.map((v) => v.action),
            ['message.create', 'message.update', 'message.delete'],
          );
          assert.deepEqual(
            versions.items.map((v) => dataOf(v)),
            [{ text: 'hello wrold' }, { text: 'hello world' }, {}],
          );
          assert.deepEqual(
            versions.items.map((v) => v.version?.serial),
            [serial, versionSerial, del.versionSerial],
          );
        }
      } finally {
        await closeAll(publisher, watcher);
      }
    });

    it('appends reach subscribers as fragments; a rewind gets the whole message as an update', async () => {
      const name = channelName('append');
      const publisher = await connect(realtime(ts, variant));
      const watcher = await connect(realtime(ts, variant));
      try {
        const pub = publisher.channels.get(name);
        const sub = watcher.channels.get(name);
        const all = new Collector<Ably.InboundMessage>();
        await sub.subscribe(all.listener);
        const { serials } = await pub.publish('answer', 'Hello');
        const serial = serials[0]!;
        const fragments = [' wor', 'ld', '!'];
        let last = '';
        for (const f of fragments)
          last = (
            await pub.appendMessage({ serial, data: f } as Ably.Message, { clientId: 'model', description: 'token' })
          ).versionSerial!;
        const got = await all.waitFor(1 + fragments.length);
        assert.deepEqual(
          got.map((m) => m.action),
          ['message.create', 'message.append', 'message.append', 'message.append'],
        );
        assert.deepEqual(
          got.map((m) => dataOf(m)),
          ['Hello', ...fragments],
        );
        assert.ok(
          got.slice(1).every((m) => m.serial === serial && m.name === 'answer' && m.version.clientId === 'model'),
        );
        assert.equal(got[3]!.version.serial, last);

        const late = await connect(realtime(ts, variant));
        try {
          const rewound = late.channels.get(name, { params: { rewind: '1' } });
          const first = next(rewound, () => true);
          await rewound.attach();
          const m = await first;
          assert.equal(m.action, 'message.update');
          assert.equal(dataOf(m), 'Hello world!');
          assert.equal(m.serial, serial);
          assert.equal(m.version.serial, last);
          assert.equal(m.version.description, 'token');
        } finally {
          await closeAll(late);
        }
        const latest = await rest(ts, variant.format).channels.get(name).getMessage(serial);
        assert.equal(dataOf(latest), 'Hello world!');
      } finally {
        await closeAll(publisher, watcher);
      }
    });

    it('delta subscribers decode updates, appends and summaries exactly, also one that skips its own changes', async () => {
      const name = channelName('delta');
      let decoded = 0;
      const plugins = { vcdiff: { decode: (d: Uint8Array, b: Uint8Array) => (decoded++, vcdiffDecoder.decode(d, b)) } };
      const publisher = await connect(realtime(ts, variant, { clientId: 'p' }));
      const a = await connect(realtime(ts, variant, { plugins }));
      const b = await connect(realtime(ts, variant, { plugins, echoMessages: false, clientId: 'b' }));
      try {
        const got = { a: new Collector<Ably.InboundMessage>(), b: new Collector<Ably.InboundMessage>() };
        const chA = a.channels.get(name, { params: { delta: 'vcdiff' } });
        const chB = b.channels.get(name, { params: { delta: 'vcdiff' } });
        await chA.subscribe(got.a.listener);
        await chB.subscribe(got.b.listener);
        const reattached: string[] = [];
        for (const ch of [chA, chB]) ch.on('attaching', (c) => reattached.push(c.reason?.message ?? ''));
        const text = (i: number, edit = ''): string =>
          `${JSON.stringify(Array.from({ length: 40 }, (_, k) => ({ k, i })))}${edit}`;
        const pub = publisher.channels.get(name);
        const s0 = (await pub.publish('t', text(0))).serials[0]!;
        await chB.updateMessage({ serial: s0, data: text(0, ' edited') } as Ably.Message);
        // Close to the update's payload: a delta for whoever got the update, whole for b, who did not.
        await pub.publish('t', text(0, ' edited again'));
        await pub.annotations.publish(s0, { type: 'seen:flag.v1' });
        const s1 = (await pub.publish('t', text(1))).serials[0]!;
        await chB.appendMessage({ serial: s1, data: ' more' } as Ably.Message);
        await pub.publish('t', text(2));
        const seenA = await got.a.waitFor(7);
        assert.deepEqual(
          seenA.map((m) => [m.action, dataOf(m)]),
          [
            ['message.create', text(0)],
            ['message.update', text(0, ' edited')],
            ['message.create', text(0, ' edited again')],
            ['message.summary', undefined],
            ['message.create', text(1)],
            ['message.append', ' more'],
            ['message.create', text(2)],
          ],
        );
        const seenB = await got.b.waitFor(5);
        assert.deepEqual(
          seenB.map((m) => [m.action, dataOf(m)]),
          [
            ['message.create', text(0)],
            ['message.create', text(0, ' edited again')],
            ['message.summary', undefined],
            ['message.create', text(1)],
            ['message.create', text(2)],
          ],
        );
        assert.ok(decoded >= 2, `deltas decoded: ${decoded}`);
        assert.deepEqual(reattached, [], 'no decode failure made a channel re-attach');
      } finally {
        await closeAll(publisher, a, b);
      }
    });
  });
}

for (const format of ['json', 'msgpack'] as Format[]) {
  describe(`message updates over REST: ${format}`, () => {
    let ts: TestServer;
    before(async () => {
      ts = await startServer();
    });
    after(async () => {
      await ts.close();
    });

    it('keeps the persisted log for mutableMessages channels', async () => {
      const small = await startServer({ channelLogMaxCount: 3 });
      try {
        const r = rest(small, format);
        for (const name of ['mutable:long', 'short'])
          for (let i = 0; i < 5; i++) await r.channels.get(name).publish('n', String(i));
        assert.equal((await r.channels.get('mutable:long').history()).items.length, 5);
        assert.equal((await r.channels.get('short').history()).items.length, 3);
      } finally {
        await small.close();
      }
    });

    it('update, append and delete by PATCH, read back by getMessage and getMessageVersions (paged)', async () => {
      const channel = rest(ts, format, { clientId: 'writer' }).channels.get(`mutable:rest-${format}`);
      const { serials } = await channel.publish('doc', Buffer.from('ab'));
      const serial = serials[0]!;
      const up = await channel.updateMessage({ serial, name: 'renamed' } as Ably.Message);
      const ap = await channel.appendMessage({ serial, data: Buffer.from('cd') } as Ably.Message, {
        metadata: { step: '2' },
      });
      const latest = await channel.getMessage(serial);
      assert.equal(latest.name, 'renamed');
      assert.deepEqual(Buffer.from(bytesOf(dataOf(latest))), Buffer.from('abcd'), 'binary appended to binary');
      assert.equal(latest.action, 'message.update');
      assert.equal(latest.version?.serial, ap.versionSerial);
      assert.equal(latest.version?.clientId, 'writer');
      assert.deepEqual(latest.version?.metadata, { step: '2' });
      const del = await channel.deleteMessage({ serial } as Ably.Message);
      const page1 = await channel.getMessageVersions(serial, { limit: 2 });
      assert.deepEqual(
        page1.items.map((v) => v.version?.serial),
        [serial, up.versionSerial],
      );
      assert.ok(page1.hasNext());
      const page2 = await page1.next();
      assert.deepEqual(
        page2!.items.map((v) => v.version?.serial),
        [ap.versionSerial, del.versionSerial],
      );
      assert.deepEqual(
        page2!.items.map((v) => v.action),
        ['message.update', 'message.delete'],
      );
      assert.equal(page2!.hasNext(), false);
      assert.deepEqual(
        Buffer.from(bytesOf(dataOf(page2!.items[1]))),
        Buffer.from('abcd'),
        'a delete without data keeps the data',
      );
    });
  });
}

describe('message updates in a sandbox app', () => {
  it("follow the app description's namespaces (ably-common test-app-setup.json: `mutable`)", async () => {
    const setup = jsonObject(
      readFileSync(new URL('../fixtures/ably-common/test-app-setup.json', import.meta.url), 'utf8'),
    );
    const ts = await startServer({ sandbox: true });
    try {
      const res = await fetch(`http://127.0.0.1:${ts.port}/apps`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(setup.post_apps),
      });
      assert.equal(res.status, 201);
      const app = await sandboxAppOf(res);
      assert.deepEqual(
        app.namespaces.filter((n) => n.mutableMessages).map((n) => n.id),
        ['mutable'],
      );
      const client = rest(ts, 'json', { key: app.keys[0]!.keyStr });
      for (const [name, code] of [
        ['mutable:sandboxed', 0],
        ['persisted:sandboxed', 93002],
      ] as const) {
        const { serials } = await client.channels.get(name).publish('m', 'v1');
        const updated = client.channels.get(name).updateMessage({ serial: serials[0]!, data: 'v2' } as Ably.Message);
        if (code === 0) assert.ok((await updated).versionSerial);
        else await assert.rejects(updated, (e: Ably.ErrorInfo) => e.code === code);
      }
    } finally {
      await ts.close();
    }
  });
});
