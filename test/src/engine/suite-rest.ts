/**
 * The engine contract for what REST and the sandbox need: history pages, per-channel retention,
 * occupancy, channel enumeration, stats and the app store. Run by `engineSuite` for every engine.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { AppRecord, ChannelEventInput, Engine, HistoryQuery, OccupancyMetrics } from '@encke/server';
import { FakeClock } from '@encke/server/internal';
import type { EngineFactory } from './suite.js';

const LOG_MAX_COUNT = 50;

export function restEngineSuite(name: string, factory: EngineFactory): void {
  describe(`engine contract (REST): ${name}`, () => {
    let clock: FakeClock;
    let engine: Engine;
    let app: string;
    let key: (ch: string) => string;
    const publish = (ch: string, names: string[], kind: 'message' | 'presence' = 'message') => {
      const input: ChannelEventInput =
        kind === 'message'
          ? { kind, timestamp: clock.now(), messages: names.map((n) => ({ name: n })) }
          : { kind, timestamp: clock.now(), presence: names.map((n) => ({ action: 2, clientId: n })) };
      return engine.channels.publish(key(ch), input);
    };
    const names = (page: Awaited<ReturnType<Engine['channels']['history']>>) =>
      page.entries.map((e) => e.event.messages?.[e.index]?.name ?? e.event.presence?.[e.index]?.clientId);

    beforeEach(async () => {
      clock = new FakeClock();
      engine = await factory({ clock, logMaxCount: LOG_MAX_COUNT, logMaxAge: 60_000 });
      app = `app${Math.random().toString(36).slice(2, 8)}`;
      key = (ch) => `${app}:${ch}`;
    });
    afterEach(async () => {
      await engine.close();
    });

    it('pages history backwards and forwards by item, across multi-message events', async () => {
      await publish('h', ['a', 'b', 'c']);
      await publish('h', ['d']);
      await publish('h', ['e', 'f']);
      const q = (query: Partial<HistoryQuery>): HistoryQuery => ({
        kind: 'message',
        direction: 'backwards',
        limit: 100,
        ...query,
      });
      assert.deepEqual(names(await engine.channels.history(key('h'), q({}))), ['f', 'e', 'd', 'c', 'b', 'a']);
      assert.deepEqual(names(await engine.channels.history(key('h'), q({ direction: 'forwards' }))), [
        'a',
        'b',
        'c',
        'd',
        'e',
        'f',
      ]);
      const first = await engine.channels.history(key('h'), q({ limit: 2 }));
      assert.deepEqual(names(first), ['f', 'e']);
      assert.equal(first.more, true);
      const last = first.entries[1]!;
      const epoch = first.head!.epoch;
      const second = await engine.channels.history(
        key('h'),
        q({ limit: 3, epoch, after: { seq: last.event.seq, index: last.index } }),
      );
      assert.deepEqual(names(second), ['d', 'c', 'b']);
      const end = second.entries[2]!;
      const third = await engine.channels.history(
        key('h'),
        q({ limit: 3, epoch, after: { seq: end.event.seq, index: end.index } }),
      );
      assert.deepEqual(names(third), ['a']);
      assert.equal(third.more, false);
      const fwd = await engine.channels.history(
        key('h'),
        q({ direction: 'forwards', limit: 2, epoch, after: { seq: end.event.seq, index: end.index } }),
      );
      assert.deepEqual(names(fwd), ['c', 'd']);
      assert.equal(fwd.more, true);
    });

    it('never skips or repeats while events keep arriving, within the bound set when paging started', async () => {
      await publish('live', ['1', '2', '3']);
      const start = await engine.channels.history(key('live'), { kind: 'message', direction: 'forwards', limit: 2 });
      const untilSeq = start.head!.seq;
      const epoch = start.head!.epoch;
      const seen = names(start);
      let page = start;
      for (let i = 0; page.more; i++) {
        await publish('live', [`new${i}`]);
        const last = page.entries[page.entries.length - 1]!;
        page = await engine.channels.history(key('live'), {
          kind: 'message',
          direction: 'forwards',
          limit: 2,
          epoch,
          untilSeq,
          after: { seq: last.event.seq, index: last.index },
        });
        seen.push(...names(page));
      }
      assert.deepEqual(seen, ['1', '2', '3']);
      const back = await engine.channels.history(key('live'), {
        kind: 'message',
        direction: 'backwards',
        limit: 100,
        untilSeq,
      });
      assert.deepEqual(names(back), ['3', '2', '1']);
    });

    it('filters history by kind and time, and reports a stale epoch', async () => {
      await publish('t', ['early']);
      clock.advance(1000);
      const middle = clock.now();
      await publish('t', ['member'], 'presence');
      await publish('t', ['middle']);
      clock.advance(1000);
      await publish('t', ['late']);
      const q: HistoryQuery = { kind: 'message', direction: 'forwards', limit: 10 };
      assert.deepEqual(names(await engine.channels.history(key('t'), { ...q, start: middle })), ['middle', 'late']);
      assert.deepEqual(names(await engine.channels.history(key('t'), { ...q, end: middle })), ['early', 'middle']);
      assert.deepEqual(names(await engine.channels.history(key('t'), { ...q, kind: 'presence' })), ['member']);
      const stale = await engine.channels.history(key('t'), {
        ...q,
        epoch: 'notTheEpoch',
        after: { seq: 1, index: 0 },
      });
      assert.equal(stale.stale, true);
      assert.deepEqual(stale.entries, []);
      const unknown = await engine.channels.history(key('never-used'), q);
      assert.deepEqual(unknown.entries, []);
      assert.equal(unknown.stale, false);
    });

    it('keeps a longer log for channels published with a longer retention', async () => {
      const retention = { maxAge: 600_000, maxCount: LOG_MAX_COUNT * 2 };
      for (let i = 0; i < LOG_MAX_COUNT + 10; i++) {
        await engine.channels.publish(key('short'), {
          kind: 'message',
          timestamp: clock.now(),
          messages: [{ name: String(i) }],
        });
        await engine.channels.publish(
          key('long'),
          { kind: 'message', timestamp: clock.now(), messages: [{ name: String(i) }] },
          { retention },
        );
      }
      const all: HistoryQuery = { kind: 'message', direction: 'backwards', limit: 1000 };
      assert.equal((await engine.channels.history(key('short'), all)).entries.length, LOG_MAX_COUNT);
      assert.equal((await engine.channels.history(key('long'), all)).entries.length, LOG_MAX_COUNT + 10);
      // A publish without a retention (presence, say) keeps the channel's longer one.
      await engine.channels.publish(key('long'), {
        kind: 'presence',
        timestamp: clock.now(),
        presence: [{ action: 2, clientId: 'c' }],
      });
      assert.equal((await engine.channels.history(key('long'), all)).entries.length, LOG_MAX_COUNT + 10);
      clock.advance(120_000);
      assert.equal((await engine.channels.history(key('short'), all)).entries.length, 0);
      assert.equal((await engine.channels.history(key('long'), all)).entries.length, LOG_MAX_COUNT + 10);
    });

    it('sums occupancy over nodes and forgets a node that reports none', async () => {
      const m = (connections: number): OccupancyMetrics => ({
        connections,
        publishers: connections,
        subscribers: 1,
        presenceConnections: 0,
        presenceSubscribers: 1,
        objectPublishers: 0,
        objectSubscribers: 0,
      });
      assert.equal(await engine.channels.occupancy(key('o')), null);
      await engine.channels.setOccupancy(key('o'), 'node1', m(2));
      await engine.channels.setOccupancy(key('o'), 'node2', m(3));
      assert.deepEqual(await engine.channels.occupancy(key('o')), { ...m(5), subscribers: 2, presenceSubscribers: 2 });
      await engine.channels.setOccupancy(key('o'), 'node1', null);
      assert.deepEqual(await engine.channels.occupancy(key('o')), m(3));
      await engine.channels.setOccupancy(key('o'), 'node2', null);
      assert.equal(await engine.channels.occupancy(key('o')), null);
    });

    it("lists an app's active channels by prefix, sorted and paged, and no other app's", async () => {
      await publish('room:b', ['x']);
      await publish('room:a', ['x']);
      await publish('lobby', ['x']);
      await engine.channels.head(key('room:idle')); // state, but nothing in the log: not active
      await engine.channels.setOccupancy(key('room:c'), 'node1', {
        connections: 1,
        publishers: 0,
        subscribers: 1,
        presenceConnections: 0,
        presenceSubscribers: 0,
        objectPublishers: 0,
        objectSubscribers: 0,
      });
      await engine.channels.publish(`other${app}:room:z`, {
        kind: 'message',
        timestamp: clock.now(),
        messages: [{ name: 'x' }],
      });
      assert.deepEqual(await engine.channels.list(app, { limit: 10 }), {
        names: ['lobby', 'room:a', 'room:b', 'room:c'],
        more: false,
      });
      const page1 = await engine.channels.list(app, { prefix: 'room:', limit: 2 });
      assert.deepEqual(page1, { names: ['room:a', 'room:b'], more: true });
      assert.deepEqual(await engine.channels.list(app, { prefix: 'room:', after: 'room:b', limit: 2 }), {
        names: ['room:c'],
        more: false,
      });
    });

    it('adds stats per minute and rolls them up into hours, days and months', async () => {
      const t0 = Date.UTC(2024, 1, 3, 15, 3);
      await engine.stats.add(app, t0, { 'messages.inbound.realtime.messages.count': 5, 'connections.all.peak': 3 });
      await engine.stats.add(app, t0, { 'messages.inbound.realtime.messages.count': 2, 'connections.all.peak': 7 });
      await engine.stats.add(app, t0 + 60_000, {
        'messages.inbound.realtime.messages.count': 10,
        'connections.all.peak': 4,
      });
      await engine.stats.add(app, Date.UTC(2024, 2, 1), { 'messages.inbound.realtime.messages.count': 1 });
      const all = { from: 0, to: Date.UTC(2030, 0), direction: 'forwards' as const, limit: 100 };
      const minutes = await engine.stats.read(app, { ...all, unit: 'minute' });
      assert.deepEqual(
        minutes.records.map((r) => [
          r.start,
          r.entries['messages.inbound.realtime.messages.count'],
          r.entries['connections.all.peak'],
        ]),
        [
          [t0, 7, 7],
          [t0 + 60_000, 10, 4],
          [Date.UTC(2024, 2, 1), 1, undefined],
        ],
      );
      const hours = await engine.stats.read(app, { ...all, unit: 'hour' });
      assert.equal(hours.records[0]!.start, Date.UTC(2024, 1, 3, 15));
      assert.equal(hours.records[0]!.entries['messages.inbound.realtime.messages.count'], 17);
      assert.equal(hours.records[0]!.entries['connections.all.peak'], 7);
      assert.equal(hours.records[0]!.lastMinute, t0 + 60_000);
      const months = await engine.stats.read(app, { ...all, unit: 'month', direction: 'backwards' });
      assert.deepEqual(
        months.records.map((r) => [r.start, r.entries['messages.inbound.realtime.messages.count']]),
        [
          [Date.UTC(2024, 2, 1), 1],
          [Date.UTC(2024, 1, 1), 17],
        ],
      );
      const ranged = await engine.stats.read(app, { ...all, unit: 'minute', from: t0 + 60_000, limit: 1 });
      assert.deepEqual(
        ranged.records.map((r) => r.start),
        [t0 + 60_000],
      );
      assert.equal(ranged.more, true);
      assert.deepEqual((await engine.stats.read(`other${app}`, { ...all, unit: 'minute' })).records, []);
    });

    it('stores apps until deleted or expired, within a maximum count', async () => {
      const record = (id: string, ttl = 60_000): AppRecord => ({
        config: { id, keys: [{ id: 'k1', secret: 'secret-000001' }] },
        accountId: 'acct',
        created: clock.now(),
        expires: clock.now() + ttl,
      });
      const a = `${app}a`;
      assert.equal(await engine.apps.create(record(a), 2), 'created');
      assert.equal(await engine.apps.create(record(a), 2), 'exists');
      assert.equal((await engine.apps.get(a))?.config.keys[0]?.secret, 'secret-000001');
      assert.equal(await engine.apps.create(record(`${app}b`, 1000), 2), 'created');
      assert.equal(await engine.apps.create(record(`${app}c`), 2), 'full');
      clock.advance(2000);
      assert.equal(await engine.apps.get(`${app}b`), undefined, 'expired');
      assert.equal(await engine.apps.create(record(`${app}c`), 2), 'created', 'an expired app no longer counts');
      assert.equal(await engine.apps.delete(a), true);
      assert.equal(await engine.apps.get(a), undefined);
      assert.equal(await engine.apps.delete(a), false);
    });
  });
}
