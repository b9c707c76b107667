/**
 * @encke/client against an in-process encke, once per Node transport (WebSocket, comet streaming,
 * long-polling, plain polling) and format (JSON, msgpack): connect, pub/sub of every data kind,
 * ACK and NACK, history, presence, close.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Message, PresenceMessage, Realtime } from '@encke/client';
import { Collector, eventually } from '../helpers/ably.js';
import { CLIENT_VARIANTS, closeClients, enckeClient, reach, serverHas } from '../helpers/encke-client.js';
import { KEYS, startServer, type TestServer } from '../helpers/server.js';

for (const variant of CLIENT_VARIANTS) {
  describe(`@encke/client ${variant.name}`, () => {
    let ts: TestServer;
    const clients: Realtime[] = [];
    const client = (options: Parameters<typeof enckeClient>[2] = {}): Realtime => {
      const c = enckeClient(ts, variant, options);
      clients.push(c);
      return c;
    };
    before(async () => {
      ts = await startServer({ maxIdleInterval: 1500 });
    });
    after(async () => {
      await closeClients(...clients);
      await ts.close();
    });

    it('connects on the forced transport with an id, a key and the server details', async () => {
      const c = client({ clientId: 'alice' });
      const change = await reach(c, 'connected');
      assert.equal(change?.previous, 'connecting');
      assert.equal(c.connection.transport, variant.transport);
      assert.match(c.connection.id ?? '', /^[A-Za-z0-9_-]{12}$/);
      assert.ok(c.connection.key?.startsWith(`${c.connection.id}!`));
      assert.equal(c.auth.clientId, 'alice');
      assert.ok(serverHas(ts, c.connection.id));
    });

    it('publishes and receives strings, JSON values and bytes, with ids, serials and clientIds', async () => {
      const a = client({ clientId: 'alice' });
      const b = client({ clientId: 'bob' });
      await Promise.all([reach(a, 'connected'), reach(b, 'connected')]);
      const got = new Collector<Message>();
      await a.channels.get('kinds').subscribe(got.listener);
      const chB = b.channels.get('kinds');
      const bytes = new Uint8Array([0, 1, 2, 250, 255]);
      await chB.publish('text', 'hello');
      await chB.publish('json', { n: 1, list: [true, null, 'x'] });
      await chB.publish({ name: 'bytes', data: bytes });
      await chB.publish([
        { name: 'batch', data: 'one' },
        { name: 'batch', data: 'two' },
      ]);
      const items = await got.waitFor(5);
      assert.deepEqual(
        items.map((m) => m.name),
        ['text', 'json', 'bytes', 'batch', 'batch'],
      );
      assert.equal(items[0]?.data, 'hello');
      assert.deepEqual(items[1]?.data, { n: 1, list: [true, null, 'x'] });
      assert.deepEqual(new Uint8Array(items[2]?.data as Uint8Array), bytes);
      assert.deepEqual(
        items.slice(3).map((m) => m.data),
        ['one', 'two'],
      );
      for (const m of items) {
        assert.equal(m.clientId, 'bob');
        assert.equal(m.connectionId, b.connection.id);
        assert.ok(m.id && m.serial && m.timestamp, JSON.stringify(m));
        assert.equal(m.encoding, undefined);
      }
    });

    it('subscribes by name and unsubscribes', async () => {
      const a = client();
      await reach(a, 'connected');
      const ch = a.channels.get('named');
      const onlyX = new Collector<Message>();
      const all = new Collector<Message>();
      await ch.subscribe('x', onlyX.listener);
      await ch.subscribe(all.listener);
      await ch.publish('y', 1);
      await ch.publish('x', 2);
      await all.waitFor(2);
      assert.deepEqual(
        onlyX.items.map((m) => m.data),
        [2],
      );
      ch.unsubscribe(all.listener);
      await ch.publish('x', 3);
      await onlyX.waitFor(2);
      assert.equal(all.items.length, 2);
    });

    it('rejects a publish the capability forbids with the NACK error (40160); the connection stays up', async () => {
      const c = client({ key: KEYS.subscribeOnly });
      await reach(c, 'connected');
      const err = await c.channels
        .get('readonly')
        .publish('nope', 1)
        .then(
          () => assert.fail('publish should fail'),
          (e: unknown) => e as { code: number; statusCode: number },
        );
      assert.equal(err.code, 40160);
      assert.equal(err.statusCode, 401);
      assert.equal(c.connection.state, 'connected');
    });

    it('attach is refused without capability: the channel fails with 40160', async () => {
      const c = client({ key: KEYS.limited });
      await reach(c, 'connected');
      const ch = c.channels.get('forbidden');
      await assert.rejects(ch.attach(), (e: { code: number }) => e.code === 40160);
      assert.equal(ch.state, 'failed');
      await c.channels.get('allowed:x').attach();
    });

    it('history: newest first, forwards, limit and paging, untilAttach', async () => {
      const c = client();
      await reach(c, 'connected');
      const ch = c.channels.get('hist');
      for (let i = 0; i < 5; i++) await ch.publish('n', i);
      const page = await ch.history({ limit: 2 });
      assert.deepEqual(
        page.items.map((m) => m.data),
        [4, 3],
      );
      assert.ok(page.hasNext());
      const next = await page.next();
      assert.deepEqual(
        next?.items.map((m) => m.data),
        [2, 1],
      );
      const fwd = await ch.history({ direction: 'forwards' });
      assert.deepEqual(
        fwd.items.map((m) => m.data),
        [0, 1, 2, 3, 4],
      );
      await ch.attach();
      await ch.publish('n', 5);
      const until = await ch.history({ untilAttach: true });
      assert.deepEqual(
        until.items.map((m) => m.data),
        [4, 3, 2, 1, 0],
      );
    });

    it('rewind param: a first attach replays the last messages', async () => {
      const c = client();
      await reach(c, 'connected');
      const writer = c.channels.get('rewinding');
      for (let i = 0; i < 3; i++) await writer.publish('r', i);
      const reader = client();
      await reach(reader, 'connected');
      const got = new Collector<Message>();
      const ch = reader.channels.get('rewinding', { params: { rewind: '2' } });
      await ch.subscribe(got.listener);
      await got.waitFor(2);
      assert.deepEqual(
        got.items.map((m) => m.data),
        [1, 2],
      );
      assert.equal(ch.params['rewind'], '2');
    });

    it('presence: enter, update, get, subscribe from another client, leave', async () => {
      const a = client({ clientId: 'anna' });
      const b = client({ clientId: 'ben' });
      await Promise.all([reach(a, 'connected'), reach(b, 'connected')]);
      const events = new Collector<PresenceMessage>();
      await b.channels.get('lobby').presence.subscribe(events.listener);
      const pa = a.channels.get('lobby').presence;
      await pa.enter({ mood: 'happy' });
      await pa.update('busy');
      await events.waitFor(2);
      assert.deepEqual(
        events.items.map((e) => [e.action, e.clientId]),
        [
          ['enter', 'anna'],
          ['update', 'anna'],
        ],
      );
      const members = await b.channels.get('lobby').presence.get();
      assert.deepEqual(
        members.map((m) => [m.clientId, m.data, m.connectionId]),
        [['anna', 'busy', a.connection.id]],
      );
      await pa.leave();
      await events.waitFor(3);
      assert.equal(events.items[2]?.action, 'leave');
      assert.deepEqual(await b.channels.get('lobby').presence.get(), []);
    });

    it('presence sync: a late attacher gets the members present before it', async () => {
      const a = client({ clientId: 'early' });
      await reach(a, 'connected');
      await a.channels.get('synced').presence.enter('here');
      const late = client({ clientId: 'late' });
      await reach(late, 'connected');
      const members = await late.channels.get('synced').presence.get();
      assert.deepEqual(
        members.map((m) => [m.clientId, m.data]),
        [['early', 'here']],
      );
      const hist = await late.channels.get('synced').presence.history();
      assert.ok(hist.items.some((m) => m.action === 'enter' && m.clientId === 'early'));
    });

    it('presence without a clientId is refused before anything is sent (91000)', async () => {
      const c = client();
      await reach(c, 'connected');
      await assert.rejects(c.channels.get('anon').presence.enter(), (e: { code: number }) => e.code === 91000);
    });

    it('detach, then messages stop', async () => {
      const a = client();
      await reach(a, 'connected');
      const ch = a.channels.get('detaching');
      const got = new Collector<Message>();
      await ch.subscribe(got.listener);
      await ch.publish('m', 1);
      await got.waitFor(1);
      await ch.detach();
      assert.equal(ch.state, 'detached');
      await ch.publish('m', 2);
      const probe = client();
      const seen = new Collector<Message>();
      await probe.channels.get('detaching').subscribe(seen.listener);
      await ch.publish('m', 3);
      await seen.waitFor(1);
      assert.equal(got.items.length, 1);
    });

    it('ping answers with a round trip', async () => {
      const c = client();
      await reach(c, 'connected');
      const ms = await c.connection.ping();
      assert.ok(ms >= 0 && ms < 5000);
    });

    it('close: CLOSED, the server discards the connection and its members leave at once', async () => {
      const a = client({ clientId: 'closer' });
      const watcher = client();
      await Promise.all([reach(a, 'connected'), reach(watcher, 'connected')]);
      const leaves = new Collector<PresenceMessage>();
      await watcher.channels.get('closing').presence.subscribe('leave', leaves.listener);
      await a.channels.get('closing').presence.enter();
      const id = a.connection.id;
      a.close();
      await reach(a, 'closed');
      await leaves.waitFor(1, 3000);
      await eventually(() => !serverHas(ts, id), 3000, 'session discarded');
      await assert.rejects(a.channels.get('closing').publish('x', 1), (e: { code: number }) => e.code === 80017);
    });
  });
}
