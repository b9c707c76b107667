/**
 * Annotations with the official SDK (`channel.annotations.publish/delete/subscribe/get`, ANNOTATION
 * action 21) over WebSocket (JSON, msgpack) and comet (streaming, long polling), and over REST in
 * both formats: individual annotations reach attachments with ANNOTATION_SUBSCRIBE, summaries
 * (`message.summary`, the summary reducer) reach every subscriber, and `getMessage`, history and
 * `annotations.get` (paged, oldest first) read them back.
 */
import { dataOf } from './helpers/field.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as Ably from 'ably';
import {
  COMET_VARIANTS,
  Collector,
  WS_VARIANTS,
  closeAll,
  connect,
  realtime,
  rest,
  sleep,
  type Format,
} from './helpers/ably.js';
import { startServer, type TestServer } from './helpers/server.js';

const REACTION = 'reaction:distinct.v1';
const VOTE = 'poll:multiple.v1';
const FULL_MODES: Ably.ChannelMode[] = ['publish', 'subscribe', 'annotation_publish', 'annotation_subscribe'];

for (const variant of [...WS_VARIANTS, ...COMET_VARIANTS]) {
  describe(`annotations: ${variant.name}`, () => {
    let ts: TestServer;
    let n = 0;
    before(async () => {
      ts = await startServer();
    });
    after(async () => {
      await ts.close();
    });
    const channelName = (): string =>
      `mutable:ann-${variant.format}-${variant.transport}-${variant.transportParams ? 'poll' : 'x'}-${++n}`;

    it('publish and delete reach annotation subscribers; summaries reach every subscriber and getMessage', async () => {
      const name = channelName();
      const alice = await connect(realtime(ts, variant, { clientId: 'alice' }));
      const bob = await connect(realtime(ts, variant, { clientId: 'bob' }));
      const plain = await connect(realtime(ts, variant));
      try {
        const chA = alice.channels.get(name, { modes: FULL_MODES });
        const chB = bob.channels.get(name);
        const chPlain = plain.channels.get(name);
        const annotations = new Collector<Ably.Annotation>();
        const messages = new Collector<Ably.InboundMessage>();
        const plainMessages = new Collector<Ably.InboundMessage>();
        await chA.annotations.subscribe(annotations.listener);
        await chA.subscribe(messages.listener);
        await chPlain.subscribe(plainMessages.listener);
        assert.ok(!chPlain.modes.includes('annotation_subscribe'), 'annotation_subscribe only when asked for');
        // The SDK refuses (93001) but keeps the listener: the server must send nothing to it.
        const plainAnnotations = new Collector<Ably.Annotation>();
        await assert.rejects(
          chPlain.annotations.subscribe(plainAnnotations.listener),
          (e: Ably.ErrorInfo) => e.code === 93001,
        );

        const { serials } = await chA.publish('post', 'first!');
        const serial = serials[0]!;
        await chA.annotations.publish(serial, { type: REACTION, name: '👍' });
        await chB.annotations.publish(serial, { type: REACTION, name: '👍', data: 'from bob' });
        await chB.annotations.publish(serial, { type: VOTE, name: 'yes', count: 3 });
        await chB.annotations.delete(serial, { type: REACTION, name: '👍' });

        const got = await annotations.waitFor(4);
        assert.deepEqual(
          got.map((a) => [a.action, a.type, a.name, a.clientId]),
          [
            ['annotation.create', REACTION, '👍', 'alice'],
            ['annotation.create', REACTION, '👍', 'bob'],
            ['annotation.create', VOTE, 'yes', 'bob'],
            ['annotation.delete', REACTION, '👍', 'bob'],
          ],
        );
        assert.ok(got.every((a) => a.messageSerial === serial && a.serial! > serial));
        assert.equal(dataOf(got[1]!), 'from bob');
        assert.equal(got[2]!.count, 3);

        const summaries = (await messages.waitFor(5)).slice(1);
        assert.ok(summaries.every((m) => m.action === 'message.summary' && m.serial === serial));
        assert.deepEqual(summaries[1]!.annotations.summary[REACTION], {
          '👍': { total: 2, clientIds: ['alice', 'bob'], clipped: false },
        });
        const final = summaries[3]!.annotations.summary;
        assert.deepEqual(final[REACTION], { '👍': { total: 1, clientIds: ['alice'], clipped: false } });
        assert.deepEqual(final[VOTE], {
          yes: { total: 3, clientIds: { bob: 3 }, totalUnidentified: 0, totalClientIds: 1, clipped: false },
        });
        assert.deepEqual(
          (await plainMessages.waitFor(5))[4]!.annotations.summary,
          final,
          'summaries go to every subscriber',
        );

        for (const format of ['json', 'msgpack'] as Format[]) {
          const channel = rest(ts, format).channels.get(name);
          const latest = await channel.getMessage(serial);
          assert.equal(dataOf(latest), 'first!');
          assert.equal(latest.action, 'message.create', 'a summary makes no new version');
          assert.deepEqual(latest.annotations?.summary, final);
          const history = await channel.history();
          assert.deepEqual(history.items[0]!.annotations?.summary, final);
          const page = await channel.annotations.get(serial, { limit: 3 });
          assert.deepEqual(
            page.items.map((a) => a.clientId),
            ['alice', 'bob', 'bob'],
          );
          const rest2 = await page.next();
          assert.deepEqual(
            rest2!.items.map((a) => a.action),
            ['annotation.delete'],
          );
        }
        await sleep(50);
        assert.equal(annotations.items.length, 4, 'each annotation delivered once');
        assert.equal(plainAnnotations.items.length, 0, 'no annotations without ANNOTATION_SUBSCRIBE');
      } finally {
        await closeAll(alice, bob, plain);
      }
    });
  });
}

for (const format of ['json', 'msgpack'] as Format[]) {
  describe(`annotations over REST: ${format}`, () => {
    let ts: TestServer;
    before(async () => {
      ts = await startServer();
    });
    after(async () => {
      await ts.close();
    });

    it('publish and delete by POST reach realtime annotation subscribers and the summary', async () => {
      const name = `mutable:ann-rest-${format}`;
      const watcher = await connect(realtime(ts, WS_VARIANTS[0]!));
      try {
        const ch = watcher.channels.get(name, { modes: ['subscribe', 'annotation_subscribe'] });
        const annotations = new Collector<Ably.Annotation>();
        const messages = new Collector<Ably.InboundMessage>();
        await ch.annotations.subscribe(annotations.listener);
        await ch.subscribe(messages.listener);
        const r = rest(ts, format, { clientId: 'carol' }).channels.get(name);
        const { serials } = await r.publish('post', 'hi');
        await r.annotations.publish(serials[0]!, { type: 'receipts:flag.v1' });
        await r.annotations.publish(serials[0]!, { type: 'views:total.v1' });
        await r.annotations.delete(serials[0]!, { type: 'receipts:flag.v1' });
        const got = await annotations.waitFor(3);
        assert.deepEqual(
          got.map((a) => [a.action, a.type, a.clientId]),
          [
            ['annotation.create', 'receipts:flag.v1', 'carol'],
            ['annotation.create', 'views:total.v1', 'carol'],
            ['annotation.delete', 'receipts:flag.v1', 'carol'],
          ],
        );
        const last = (await messages.waitFor(4))[3]!;
        assert.deepEqual(last.annotations.summary, {
          'receipts:flag.v1': { total: 0, clientIds: [], clipped: false },
          'views:total.v1': { total: 1 },
        });
      } finally {
        await closeAll(watcher);
      }
    });
  });
}
