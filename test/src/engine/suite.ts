/**
 * The engine contract as one suite, run against every engine factory (memory now, Redis in the
 * cluster issue), the way centrifuge runs its broker tests against every broker.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FakeClock, parseSerial, type ChannelEvent, type Engine } from '@encke/server';
import { restEngineSuite } from './suite-rest.js';

export interface EngineFactoryOptions {
  clock: FakeClock;
  logMaxCount: number;
  logMaxAge: number;
}

export type EngineFactory = (options: EngineFactoryOptions) => Promise<Engine>;


/** Lets asynchronous fan-out (pub/sub between nodes) arrive. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

export function engineSuite(name: string, factory: EngineFactory): void {
  describe(`engine contract: ${name}`, () => {
    let clock: FakeClock;
    let engine: Engine;
    let delivered: [string, ChannelEvent][];
    let prefix = 0;
    let key: (ch: string) => string;
    const message = (name: string, extra: Record<string, unknown> = {}) => ({
      kind: 'message' as const,
      connectionId: 'conn1',
      timestamp: clock.now(),
      messages: [{ name, data: `data-${name}`, ...extra }],
    });

    beforeEach(async () => {
      clock = new FakeClock();
      engine = await factory({ clock, logMaxCount: 5, logMaxAge: 60_000 });
      delivered = [];
      engine.setListener((k, e) => delivered.push([k, e]));
      const p = `app${++prefix}${Math.random().toString(36).slice(2, 6)}`;
      key = (ch) => `${p}:${ch}`;
    });
    afterEach(async () => {
      await engine.close();
    });

    it('assigns increasing serials within one epoch and fills message serials', async () => {
      const a = await engine.channels.publish(key('c'), message('a'));
      const b = await engine.channels.publish(key('c'), message('b'));
      const sa = parseSerial(a.event!.serial)!;
      const sb = parseSerial(b.event!.serial)!;
      assert.equal(sa.epoch, sb.epoch);
      assert.equal(sb.seq, sa.seq + 1);
      assert.ok(a.event!.serial < b.event!.serial, 'serials sort as strings');
      assert.deepEqual(a.serials, [`${a.event!.serial}:000`]);
      assert.equal(a.event!.messages![0]!.serial, a.serials[0]);
    });

    it('has a stable head that starts an epoch for an empty channel', async () => {
      const h1 = await engine.channels.head(key('empty'));
      const h2 = await engine.channels.head(key('empty'));
      assert.deepEqual(h1, h2);
      assert.equal(h1.seq, 0);
      const p = await engine.channels.publish(key('empty'), message('x'));
      const h3 = await engine.channels.head(key('empty'));
      assert.equal(h3.serial, p.event!.serial);
      assert.equal(h3.epoch, h1.epoch);
    });

    it('fans out only subscribed channels, in publish order', async () => {
      await engine.channels.subscribe(key('on'));
      await engine.channels.publish(key('off'), message('ignored'));
      for (const n of ['1', '2', '3']) await engine.channels.publish(key('on'), message(n));
      await settle();
      assert.deepEqual(delivered.map(([k, e]) => [k, e.messages![0]!.name]), [[key('on'), '1'], [key('on'), '2'], [key('on'), '3']]);
      await engine.channels.unsubscribe(key('on'));
      await engine.channels.publish(key('on'), message('after'));
      await settle();
      assert.equal(delivered.length, 3);
    });

    it('replays everything after a serial, and reports when it cannot', async () => {
      const first = await engine.channels.publish(key('r'), message('1'));
      await engine.channels.publish(key('r'), message('2'));
      await engine.channels.publish(key('r'), message('3'));
      const from = parseSerial(first.event!.serial)!;
      const replay = await engine.channels.readAfter(key('r'), from.epoch, from.seq, 100);
      assert.equal(replay.complete, true);
      assert.deepEqual(replay.events.map((e) => e.messages![0]!.name), ['2', '3']);
      assert.deepEqual((await engine.channels.readAfter(key('r'), from.epoch, from.seq + 2, 100)).events, []);
      assert.equal((await engine.channels.readAfter(key('r'), 'otherEpoch', from.seq, 100)).complete, false, 'another epoch');
      assert.equal((await engine.channels.readAfter(key('r'), from.epoch, from.seq + 50, 100)).complete, false, 'from the future');
      assert.equal((await engine.channels.readAfter(key('nothing-here'), from.epoch, 1, 100)).complete, false, 'unknown channel');
    });

    it('bounds the log by count: replay past the bound is incomplete', async () => {
      const first = await engine.channels.publish(key('n'), message('0'));
      for (let i = 1; i <= 6; i++) await engine.channels.publish(key('n'), message(String(i)));
      const from = parseSerial(first.event!.serial)!;
      assert.equal((await engine.channels.readAfter(key('n'), from.epoch, from.seq, 100)).complete, false);
      const last5 = await engine.channels.readLast(key('n'), 'message', 100);
      assert.deepEqual(last5.map((e) => e.messages![0]!.name), ['2', '3', '4', '5', '6']);
    });

    it('bounds the log by age', async () => {
      const first = await engine.channels.publish(key('age'), { ...message('old'), timestamp: clock.now() });
      clock.advance(61_000);
      await engine.channels.publish(key('age'), { ...message('new'), timestamp: clock.now() });
      const from = parseSerial(first.event!.serial)!;
      assert.deepEqual((await engine.channels.readLast(key('age'), 'message', 10)).map((e) => e.messages![0]!.name), ['new']);
      assert.equal((await engine.channels.readAfter(key('age'), from.epoch, from.seq - 1, 100)).complete, false);
      assert.equal((await engine.channels.readAfter(key('age'), from.epoch, from.seq, 100)).complete, true);
    });

    it('reads the last N messages, or those since a time', async () => {
      for (let i = 0; i < 4; i++) {
        await engine.channels.publish(key('last'), { ...message(String(i)), timestamp: clock.now() });
        clock.advance(1000);
      }
      await engine.channels.publish(key('last'), { kind: 'presence', timestamp: clock.now(), presence: [{ action: 2, clientId: 'x' }] });
      assert.deepEqual((await engine.channels.readLast(key('last'), 'message', 2)).map((e) => e.messages![0]!.name), ['2', '3']);
      assert.deepEqual((await engine.channels.readLast(key('last'), 'message', 10, clock.now() - 2500)).map((e) => e.messages![0]!.name), ['2', '3']);
      assert.equal((await engine.channels.readLast(key('last'), 'presence', 10)).length, 1);
    });

    it('drops messages whose id was published within the idempotency window', async () => {
      const opts = { idempotencyWindow: 10_000 };
      const first = await engine.channels.publish(key('idem'), message('a', { id: 'msg-1' }), opts);
      const again = await engine.channels.publish(key('idem'), message('a', { id: 'msg-1' }), opts);
      assert.equal(again.event, null);
      assert.deepEqual(again.serials, first.serials);
      const mixed = await engine.channels.publish(key('idem'), { kind: 'message', timestamp: clock.now(), messages: [{ id: 'msg-1' }, { id: 'msg-2' }] }, opts);
      assert.equal(mixed.event!.messages!.length, 1);
      assert.equal(mixed.serials[0], first.serials[0]);
      assert.equal(mixed.serials[1], mixed.event!.messages![0]!.serial);
      clock.advance(11_000);
      const later = await engine.channels.publish(key('idem'), message('a', { id: 'msg-1' }), opts);
      assert.notEqual(later.event, null);
    });

    it('keeps channels and apps apart', async () => {
      const a = await engine.channels.publish(key('x'), message('a'));
      await engine.channels.publish(key('y'), message('b'));
      const from = parseSerial(a.event!.serial)!;
      const otherHead = await engine.channels.head(key('y'));
      assert.notEqual(otherHead.epoch, from.epoch, 'epochs differ between channels');
      assert.equal((await engine.channels.readAfter(key('y'), from.epoch, 0, 10)).complete, false);
    });
  });
  restEngineSuite(name, factory);
}
