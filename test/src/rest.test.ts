/**
 * The REST API driven by the official SDK's `Ably.Rest` (and `Ably.Realtime` where REST meets
 * realtime), once in JSON and once in msgpack. Stats are in rest-stats.test.ts, what browsers rely
 * on in rest-browsers.test.ts.
 */
import { bytesOf, dataOf, firstItem, objectOf } from './helpers/field.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as Ably from 'ably';
import { PresenceAction } from '@encke/protocol';
import { channelKey } from '@encke/server';
import { Collector, closeAll, connect, realtime, rest, type Format } from './helpers/ably.js';
import { APP_ID, KEYS, startServer, type TestServer } from './helpers/server.js';

const FORMATS: Format[] = ['json', 'msgpack'];

for (const format of FORMATS) {
  describe(`rest: ${format}`, () => {
    let ts: TestServer;
    let client: Ably.Rest;
    let n = 0;
    /** A channel name no other test uses. */
    const fresh = (label: string): string => `${label}-${format}-${++n}`;
    before(async () => {
      ts = await startServer();
      client = rest(ts, format);
    });
    after(async () => {
      await ts.close();
    });

    it('answers the server time', async () => {
      const t0 = Date.now();
      const time = await client.time();
      assert.ok(time >= t0 - 1000 && time <= Date.now() + 1000, `time ${time}`);
      // rest.request() decodes the answer in the client's format: one value, in that format.
      const answer = await client.request('get', '/time', 3);
      assert.equal(answer.statusCode, 200);
      assert.equal(answer.items.length, 1);
      const requested = firstItem(answer.items);
      assert.ok(
        typeof requested === 'number' && requested >= t0 - 1000 && requested <= Date.now() + 1000,
        `request time ${String(requested)}`,
      );
    });

    it('publishes one message and reads it back with every field', async () => {
      const channel = client.channels.get(fresh('single ü/x'));
      const result = await channel.publish('greeting', 'hello');
      assert.equal(result.serials.length, 1);
      const page = await channel.history();
      assert.equal(page.items.length, 1);
      const msg = page.items[0]!;
      assert.equal(msg.name, 'greeting');
      assert.equal(dataOf(msg), 'hello');
      assert.equal(msg.serial, result.serials[0]);
      assert.match(msg.id ?? '', /:0$/);
      assert.equal(typeof msg.timestamp, 'number');
      assert.equal(msg.action, 'message.create');
    });

    it('publishes a batch with JSON, binary and string data, in order', async () => {
      const channel = client.channels.get(fresh('batch'));
      const result = await channel.publish([
        { name: 'a', data: { x: 1 } },
        { name: 'b', data: Buffer.from([1, 2, 3]) },
        { name: 'c', data: 'text' },
      ]);
      assert.equal(result.serials.length, 3);
      const page = await channel.history({ direction: 'forwards' });
      assert.deepEqual(
        page.items.map((m) => m.name),
        ['a', 'b', 'c'],
      );
      assert.deepEqual(dataOf(page.items[0]!), { x: 1 });
      assert.deepEqual(Buffer.from(bytesOf(dataOf(page.items[1]))), Buffer.from([1, 2, 3]));
      assert.equal(dataOf(page.items[2]!), 'text');
    });

    it('does not duplicate a retried publish with the same message id', async () => {
      const channel = client.channels.get(fresh('idempotent'));
      const first = await channel.publish({ id: 'retry-me', name: 'once', data: 'x' });
      const again = await channel.publish({ id: 'retry-me', name: 'once', data: 'x' });
      assert.deepEqual(again.serials, first.serials);
      const page = await channel.history();
      assert.equal(page.items.length, 1);
      assert.equal(page.items[0]!.id, 'retry-me');
    });

    it('uses the clientId of the REST client and refuses another one on a message', async () => {
      const carol = rest(ts, format, { clientId: 'carol' });
      const channel = carol.channels.get(fresh('client-id'));
      await channel.publish('hi', 'there');
      assert.equal((await channel.history()).items[0]!.clientId, 'carol');
      await assert.rejects(
        channel.publish({ name: 'spoof', clientId: 'dave' }),
        (err: Ably.ErrorInfo) => err.code === 40012 && err.statusCode === 400,
      );
    });

    it('pages history backwards and forwards without skips or repeats while messages keep arriving', async () => {
      const channel = client.channels.get(fresh('paging'));
      const published = Array.from({ length: 23 }, (_, i) => `m${i}`);
      for (const name of published) await channel.publish(name, 'x');
      for (const direction of ['backwards', 'forwards'] as const) {
        // The pages cover the channel as it was at the first request, whatever arrives meanwhile.
        const expected = direction === 'forwards' ? [...published] : [...published].reverse();
        const seen: string[] = [];
        let page: Ably.PaginatedResult<Ably.Message> | null = await channel.history({ limit: 5, direction });
        while (page) {
          seen.push(...page.items.map((m) => m.name!));
          const late = `late-${direction}-${seen.length}`;
          await channel.publish(late, 'arrives while paging');
          published.push(late);
          page = page.hasNext() ? await page.next() : null;
        }
        assert.deepEqual(seen, expected);
      }
      const latest = await channel.history({ limit: 2 });
      assert.deepEqual(
        latest.items.map((m) => m.name),
        published.slice(-2).reverse(),
      );
      const first = await (await latest.next())!.first();
      assert.deepEqual(
        first.items.map((m) => m.name),
        published.slice(-2).reverse(),
      );
    });

    it('filters history by time', async () => {
      const channel = client.channels.get(fresh('time-range'));
      await channel.publish('before', 'x');
      await new Promise((r) => setTimeout(r, 5));
      const start = Date.now();
      await channel.publish('inside', 'x');
      const end = Date.now();
      await new Promise((r) => setTimeout(r, 5));
      await channel.publish('after', 'x');
      const page = await channel.history({ start, end });
      assert.deepEqual(
        page.items.map((m) => m.name),
        ['inside'],
      );
    });

    it('answers history untilAttach up to the attach point of a realtime channel', async () => {
      const name = fresh('until-attach');
      for (const m of ['old1', 'old2']) await client.channels.get(name).publish(m, 'x');
      const rt = realtime(ts, { name: format, transport: 'web_socket', format });
      try {
        await connect(rt);
        const channel = rt.channels.get(name);
        await channel.attach();
        await client.channels.get(name).publish('new', 'x');
        const all = await channel.history();
        assert.deepEqual(
          all.items.map((m) => m.name),
          ['new', 'old2', 'old1'],
        );
        const untilAttach = await channel.history({ untilAttach: true });
        assert.deepEqual(
          untilAttach.items.map((m) => m.name),
          ['old2', 'old1'],
        );
      } finally {
        await closeAll(rt);
      }
    });

    it('publishes on behalf of a realtime connection by its connectionKey', async () => {
      const name = fresh('on-behalf');
      const rt = realtime(
        ts,
        { name: format, transport: 'web_socket', format },
        { clientId: 'rt-client', echoMessages: false },
      );
      try {
        await connect(rt);
        const received = new Collector();
        await rt.channels.get(name).subscribe(received.listener);
        const other = new Collector();
        const watcher = realtime(ts, { name: format, transport: 'web_socket', format });
        await connect(watcher);
        await watcher.channels.get(name).subscribe(other.listener);
        await client.channels.get(name).publish({ name: 'via-rest', data: 'x', connectionKey: rt.connection.key! });
        const [msg] = await other.waitFor(1);
        assert.equal(msg!.connectionId, rt.connection.id);
        assert.equal(msg!.clientId, 'rt-client');
        assert.equal(received.items.length, 0, 'echo=false: the connection does not get its own message back');
        await assert.rejects(
          client.channels.get(name).publish({ name: 'forged', connectionKey: 'AAAAAAAAAAAA!BBBBBBBBBBBBBBBB1' }),
          (err: Ably.ErrorInfo) => err.code === 40006,
        );
        await closeAll(watcher);
      } finally {
        await closeAll(rt);
      }
    });

    it('reports channel status with occupancy by channel modes', async () => {
      const name = fresh('status');
      const idle = await client.channels.get(fresh('status-idle')).status();
      assert.equal(idle.status.isActive, false);
      assert.equal(idle.status.occupancy.metrics.connections, 0);
      const a = realtime(ts, { name: format, transport: 'web_socket', format });
      const b = realtime(ts, { name: format, transport: 'web_socket', format });
      try {
        await Promise.all([connect(a), connect(b)]);
        await a.channels.get(name).attach();
        await b.channels.get(name, { modes: ['subscribe'] }).attach();
        const details = await client.channels.get(name).status();
        assert.equal(details.channelId, name);
        assert.equal(details.status.isActive, true);
        const m = details.status.occupancy.metrics;
        assert.deepEqual(
          [m.connections, m.publishers, m.subscribers, m.presenceConnections, m.presenceSubscribers, m.presenceMembers],
          [2, 1, 2, 1, 1, 0],
        );
      } finally {
        await closeAll(a, b);
      }
    });

    it('enumerates active channels by prefix, paged', async () => {
      const prefix = fresh('enum');
      for (const suffix of ['c', 'a', 'b']) await client.channels.get(`${prefix}:${suffix}`).publish('x', 'y');
      const first = await client.request('get', '/channels', 3, { prefix: `${prefix}:`, limit: 2, by: 'id' });
      assert.equal(first.statusCode, 200);
      assert.deepEqual(first.items, [`${prefix}:a`, `${prefix}:b`]);
      assert.ok(first.hasNext());
      const second = await first.next();
      assert.deepEqual(second!.items, [`${prefix}:c`]);
      const details = await client.request('get', '/channels', 3, { prefix: `${prefix}:a` });
      assert.equal(objectOf(firstItem(details.items)).channelId, `${prefix}:a`);
    });

    it('batch publishes, with a result per channel and capability failures', async () => {
      const limited = rest(ts, format, { key: KEYS.limited });
      const [result] = await limited.batchPublish([
        { channels: ['allowed:one', 'readonly:two'], messages: [{ data: 'm1' }, { data: 'm2' }] },
      ]);
      assert.equal(result!.successCount, 1);
      assert.equal(result!.failureCount, 1);
      const [ok, denied] = result!.results as [Ably.BatchPublishSuccessResult, Ably.BatchPublishFailureResult];
      assert.equal(ok.channel, 'allowed:one');
      assert.match(ok.messageId, /:0$/);
      assert.equal(denied.channel, 'readonly:two');
      assert.equal(denied.error.statusCode, 401);
      assert.equal(denied.error.code, 40160);
      const history = await client.channels.get('allowed:one').history({ direction: 'forwards' });
      assert.deepEqual(
        history.items.slice(-2).map((m) => dataOf(m)),
        ['m1', 'm2'],
      );
      const single = await limited.batchPublish({ channels: ['allowed:three'], messages: [{ data: 'solo' }] });
      assert.equal(single.successCount, 1);
    });

    it('answers request(): publish, paged reads, the v2 batch shape and errors', async () => {
      const path = `/channels/${encodeURIComponent(fresh('request'))}/messages`;
      const posted = await client.request('post', path, 3, null, { name: 'one', data: 'first' });
      assert.equal(posted.statusCode, 201);
      assert.equal(posted.items.length, 1);
      await client.request('post', path, 3, null, [{ name: 'two', data: 'second' }]);
      const page = await client.request('get', path, 3, { limit: 1, direction: 'forwards' });
      assert.equal(page.statusCode, 200);
      assert.equal(objectOf(firstItem(page.items)).name, 'one');
      assert.ok(page.hasNext());
      const next = await page.next();
      assert.equal(objectOf(firstItem(next!.items)).name, 'two');
      const batch = await client.request(
        'post',
        '/messages',
        2,
        {},
        { channels: [fresh('v2a'), fresh('v2b')], messages: { data: 'foo' } },
      );
      assert.equal(batch.statusCode, 201);
      assert.equal(batch.items.length, 2);
      assert.ok(!objectOf(firstItem(batch.items)).error);
      const failed = await client.request(
        'post',
        '/messages',
        2,
        {},
        { channels: [fresh('v2ok'), ':bad'], messages: { data: 'foo' } },
      );
      assert.equal(failed.statusCode, 400);
      assert.equal(failed.errorCode, 40020);
      const missing = await client.request('get', '/no/such/endpoint', 3);
      assert.equal(missing.success, false);
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.errorCode, 40400);
    });

    it('reads presence history from the channel log', async () => {
      const name = fresh('presence-history');
      await ts.server.engine.channels.publish(channelKey(APP_ID, name), {
        kind: 'presence',
        id: 'conn1234abcd:0',
        connectionId: 'conn1234abcd',
        timestamp: Date.now(),
        presence: [{ action: PresenceAction.ENTER, clientId: 'alice', data: 'here' }],
      });
      const page = await client.channels.get(name).presence.history();
      assert.equal(page.items.length, 1);
      const member = page.items[0]!;
      assert.equal(member.action, 'enter');
      assert.equal(member.clientId, 'alice');
      assert.equal(dataOf(member), 'here');
      assert.equal(member.connectionId, 'conn1234abcd');
      assert.equal(member.id, 'conn1234abcd:0:0');
    });

    it('gets the presence set, filtered by clientId and connectionId, paged, and counts members in the status', async () => {
      const name = fresh('presence-get');
      const live = await connect(realtime(ts, { name: 'ws', transport: 'web_socket', format }));
      try {
        const ch = live.channels.get(name);
        for (const clientId of ['ann', 'ben', 'cat', 'dan', 'eve'])
          await ch.presence.enterClient(clientId, { who: clientId });
        const all = await client.channels.get(name).presence.get();
        assert.deepEqual(all.items.map((m) => m.clientId).sort(), ['ann', 'ben', 'cat', 'dan', 'eve']);
        assert.ok(all.items.every((m) => m.action === 'present' && m.connectionId === live.connection.id));
        assert.deepEqual(dataOf(all.items.find((m) => m.clientId === 'cat')), { who: 'cat' });
        const byClient = await client.channels.get(name).presence.get({ clientId: 'ben' });
        assert.deepEqual(
          byClient.items.map((m) => m.clientId),
          ['ben'],
        );
        assert.equal((await client.channels.get(name).presence.get({ connectionId: 'nobody' })).items.length, 0);
        const seen: string[] = [];
        let page = await client.channels.get(name).presence.get({ limit: 2 });
        for (;;) {
          seen.push(...page.items.map((m) => m.clientId!));
          if (!page.hasNext()) break;
          page = (await page.next())!;
        }
        assert.deepEqual([...seen].sort(), ['ann', 'ben', 'cat', 'dan', 'eve'], 'pages cover the set once');
        assert.equal(seen.length, 5);
        const status = await client.channels.get(name).status();
        assert.equal(status.status.occupancy.metrics.presenceMembers, 5);
        // ably-js hands back the body as is: {successCount, failureCount, results}.
        const batch = (await client.batchPresence([name, 'nobody-here'])) as unknown as {
          successCount: number;
          results: Ably.BatchPresenceSuccessResult[];
        };
        assert.equal(batch.successCount, 2);
        const [first, second] = batch.results;
        assert.equal(first!.presence.length, 5);
        assert.equal(second!.presence.length, 0);
      } finally {
        await closeAll(live);
      }
    });

    it('refuses what the capability does not allow', async () => {
      const subOnly = rest(ts, format, { key: KEYS.subscribeOnly });
      const name = fresh('denied');
      await assert.rejects(
        subOnly.channels.get(name).publish('x', 'y'),
        (err: Ably.ErrorInfo) => err.code === 40160 && err.statusCode === 401,
      );
      await assert.rejects(subOnly.channels.get(name).history(), (err: Ably.ErrorInfo) => err.code === 40160);
      await assert.rejects(subOnly.channels.get(name).status(), (err: Ably.ErrorInfo) => err.code === 40160);
      await assert.rejects(subOnly.stats(), (err: Ably.ErrorInfo) => err.code === 40160);
    });
  });
}
