/**
 * REST stats driven by the official SDK's `Ably.Rest` (with an `Ably.Realtime` subscriber), once in
 * JSON and once in msgpack, on a fake clock: the app's own traffic per minute, rolled up into
 * hours, days and months, paged both ways. The rest of the REST API is in rest.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type * as Ably from 'ably';
import { FakeClock } from '@encke/server/internal';
import { Collector, closeAll, connect, realtime, rest, type Format } from './helpers/ably.js';
import { startServer, type TestServer } from './helpers/server.js';

for (const format of ['json', 'msgpack'] as Format[]) {
  describe(`rest stats: ${format}`, () => {
    const clock = new FakeClock(Date.UTC(2025, 0, 15, 10, 30, 20));
    let ts: TestServer;
    before(async () => {
      ts = await startServer({ clock });
    });
    after(async () => {
      await ts.close();
    });

    it("counts the app's own traffic per minute and rolls it up into hours, days and months", async () => {
      const client = rest(ts, format);
      const variant = { name: format, transport: 'web_socket' as const, format };
      const subscriber = realtime(ts, variant);
      try {
        await connect(subscriber);
        const received = new Collector();
        const channel = subscriber.channels.get('counted');
        await channel.subscribe(received.listener);
        await client.channels.get('counted').publish([{ data: 'ab' }, { data: 'cd' }]);
        await client.channels.get('counted').publish('x', 'efg');
        await channel.publish('from-realtime', 'h');
        await received.waitFor(4);
        const minute = await client.stats({ unit: 'minute' });
        assert.equal(minute.items.length, 1);
        const stats = minute.items[0]!;
        assert.equal(stats.intervalId, '2025-01-15:10:30');
        assert.equal((stats as unknown as { unit: string }).unit, 'minute');
        assert.equal(typeof stats.schema, 'string');
        assert.equal(typeof stats.inProgress, 'string');
        const e = stats.entries;
        assert.equal(e['messages.inbound.rest.messages.count'], 3);
        assert.equal(e['messages.inbound.rest.messages.data'], 7);
        assert.equal(e['messages.inbound.realtime.messages.count'], 1);
        assert.equal(e['messages.inbound.realtime.messages.data'], 1);
        assert.equal(e['messages.inbound.all.messages.count'], 4);
        assert.equal(e['messages.outbound.realtime.messages.count'], 4);
        assert.equal(e['messages.all.all.count'], 8);
        assert.equal(e['connections.all.opened'], 1);
        for (const [unit, intervalId] of [
          ['hour', '2025-01-15:10'],
          ['day', '2025-01-15'],
          ['month', '2025-01'],
        ] as const) {
          const page = await client.stats({ unit });
          assert.equal(page.items[0]!.intervalId, intervalId);
          assert.equal(page.items[0]!.entries['messages.inbound.all.messages.count'], 4);
        }
        clock.advance(60_000);
        await client.channels.get('counted').publish('later', 'x');
        const backwards = await client.stats({ unit: 'minute' });
        assert.deepEqual(
          backwards.items.map((s) => s.intervalId),
          ['2025-01-15:10:31', '2025-01-15:10:30'],
        );
        const forwards = await client.stats({ unit: 'minute', direction: 'forwards', limit: 1 });
        assert.equal(forwards.items[0]!.intervalId, '2025-01-15:10:30');
        const second = await forwards.next();
        assert.equal(second!.items[0]!.intervalId, '2025-01-15:10:31');
        assert.equal(second!.hasNext(), false);
        const ended = await client.stats({ end: '2025-01-15:10:30' } as unknown as Ably.StatsParams);
        assert.deepEqual(
          ended.items.map((s) => s.intervalId),
          ['2025-01-15:10:30'],
        );
      } finally {
        await closeAll(subscriber);
      }
    });
  });
}
