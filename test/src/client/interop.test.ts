/**
 * Interop through the server: the official ably SDK and @encke/client on one channel, messages and
 * presence both ways, on WebSocket and comet for each side.
 */
import { bytesOf, dataOf } from '../helpers/field.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type * as Ably from 'ably';
import type { Message, PresenceMessage } from '@encke/client';
import { Collector, closeAll, connect, realtime, type Variant } from '../helpers/ably.js';
import { closeClients, enckeClient, reach, type ClientVariant } from '../helpers/encke-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

const PAIRS: [Variant, ClientVariant][] = [
  [
    { name: 'ably websocket json', transport: 'web_socket', format: 'json' },
    { name: 'encke web_socket json', transport: 'web_socket', format: 'json' },
  ],
  [
    { name: 'ably websocket msgpack', transport: 'web_socket', format: 'msgpack' },
    { name: 'encke xhr_polling json', transport: 'xhr_polling', format: 'json' },
  ],
  [
    { name: 'ably comet', transport: 'comet', format: 'json' },
    { name: 'encke web_socket msgpack', transport: 'web_socket', format: 'msgpack' },
  ],
  [
    { name: 'ably comet polling', transport: 'comet', format: 'json', transportParams: { stream: false } },
    { name: 'encke xhr_streaming msgpack', transport: 'xhr_streaming', format: 'msgpack' },
  ],
];

describe('interop: ably SDK ⇄ @encke/client', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer();
  });
  after(async () => {
    await ts.close();
  });

  for (const [ablyVariant, enckeVariant] of PAIRS) {
    it(`${ablyVariant.name} ⇄ ${enckeVariant.name}: messages and presence both ways`, async () => {
      const channel = `interop-${ablyVariant.name}-${enckeVariant.name}`.replace(/\s/g, '-');
      const ably = realtime(ts, ablyVariant, { clientId: 'ably-user' });
      const encke = enckeClient(ts, enckeVariant, { clientId: 'encke-user' });
      try {
        await Promise.all([connect(ably), reach(encke, 'connected')]);
        const toAbly = new Collector<Ably.Message>();
        const toEncke = new Collector<Message>();
        const ablyCh = ably.channels.get(channel);
        const enckeCh = encke.channels.get(channel);
        await ablyCh.subscribe(toAbly.listener);
        await enckeCh.subscribe(toEncke.listener);

        const bytes = new Uint8Array([9, 8, 7, 0, 255]);
        await enckeCh.publish('from-encke', { n: 1 });
        await enckeCh.publish('bin-from-encke', bytes);
        await ablyCh.publish('from-ably', { n: 2 });
        await ablyCh.publish('bin-from-ably', Buffer.from(bytes));

        const atAbly = await toAbly.waitFor(4);
        const atEncke = await toEncke.waitFor(4);
        for (const items of [atAbly, atEncke]) {
          const byName = new Map(items.map((m) => [m.name, m]));
          assert.deepEqual(dataOf(byName.get('from-encke')), { n: 1 });
          assert.deepEqual(dataOf(byName.get('from-ably')), { n: 2 });
          assert.deepEqual(new Uint8Array(bytesOf(dataOf(byName.get('bin-from-encke')))), bytes);
          assert.deepEqual(new Uint8Array(bytesOf(dataOf(byName.get('bin-from-ably')))), bytes);
          assert.equal(byName.get('from-encke')?.clientId, 'encke-user');
          assert.equal(byName.get('from-ably')?.clientId, 'ably-user');
        }
        // Both sides see the same message ids and serials.
        const ids = (list: { id?: string; name?: string }[]): string[] => list.map((m) => `${m.name}:${m.id}`).sort();
        assert.deepEqual(ids(atAbly), ids(atEncke));

        const enckePresence = new Collector<PresenceMessage>();
        const ablyPresence = new Collector<Ably.PresenceMessage>();
        await enckeCh.presence.subscribe(enckePresence.listener);
        await ablyCh.presence.subscribe(ablyPresence.listener);
        await ablyCh.presence.enter('from ably');
        await enckeCh.presence.enter('from encke');
        await enckePresence.waitFor(2);
        await ablyPresence.waitFor(2);
        const seenByEncke = (await enckeCh.presence.get()).map((m) => `${m.clientId}=${String(m.data)}`).sort();
        const seenByAbly = (await ablyCh.presence.get()).map((m) => `${m.clientId}=${String(dataOf(m))}`).sort();
        assert.deepEqual(seenByEncke, ['ably-user=from ably', 'encke-user=from encke']);
        assert.deepEqual(seenByAbly, seenByEncke);
        await enckeCh.presence.leave();
        await ablyPresence.waitFor(3);
        assert.equal(ablyPresence.items[2]?.action, 'leave');
        assert.equal(ablyPresence.items[2]?.clientId, 'encke-user');
      } finally {
        await closeAll(ably);
        await closeClients(encke);
      }
    });
  }
});
