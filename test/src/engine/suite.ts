/**
 * The engine contract as one suite, run against every engine factory (memory now, Redis in the
 * cluster issue), the way centrifuge runs its broker tests against every broker.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AblyError, Err, PresenceAction, type PresenceMessage } from '@encke/protocol';
import { parseSerial, type ChannelEvent, type Engine, type TokenRevocation } from '@encke/server';
import { FakeClock } from '@encke/server/internal';
import { chainEngineSuite } from './suite-chains.js';
import { restEngineSuite } from './suite-rest.js';

export interface EngineFactoryOptions {
  clock: FakeClock;
  logMaxCount: number;
  logMaxAge: number;
}

/** Makes an engine, not yet started: the suite starts it with its own event handler. */
export type EngineFactory = (options: EngineFactoryOptions) => Promise<Engine>;

/** Waits for asynchronous fan-out (pub/sub between nodes) to bring what `done` expects. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export function engineSuite(name: string, factory: EngineFactory): void {
  describe(`engine contract: ${name}`, () => {
    let clock: FakeClock;
    let engine: Engine;
    let delivered: [string, ChannelEvent][];
    let heard: TokenRevocation[];
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
      heard = [];
      await engine.start({
        onChannelEvent: (k, e) => delivered.push([k, e]),
        onResync: () => undefined,
        onRevocation: (r) => heard.push(r),
        onTakeover: () => undefined,
      });
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

    it('publishes made without waiting (a pipelined connection) get serials and are delivered in call order', async () => {
      // The inbound queue sends a connection's publishes without waiting for each other's answers;
      // their order is the call order (cluster-failover once saw 5, 6, 7 before 3, 4: script.ts).
      await engine.channels.subscribe(key('piped'));
      const names = Array.from({ length: 40 }, (_, i) => String(i));
      const outcomes = await Promise.all(names.map((n) => engine.channels.publish(key('piped'), message(n))));
      const seqs = outcomes.map((o) => parseSerial(o.event!.serial)!.seq);
      assert.deepEqual(
        seqs,
        seqs.map((_, i) => seqs[0]! + i),
      );
      const heard = (): string[] => delivered.filter(([k]) => k === key('piped')).map(([, e]) => e.messages![0]!.name!);
      await until(() => heard().length === names.length, 'every publish delivered');
      assert.deepEqual(heard(), names);
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
      await engine.channels.subscribe(key('marker'));
      await engine.channels.publish(key('off'), message('ignored'));
      for (const n of ['1', '2', '3']) await engine.channels.publish(key('on'), message(n));
      await until(() => delivered.length >= 3, 'three deliveries');
      assert.deepEqual(
        delivered.map(([k, e]) => [k, e.messages![0]!.name]),
        [
          [key('on'), '1'],
          [key('on'), '2'],
          [key('on'), '3'],
        ],
      );
      await engine.channels.unsubscribe(key('on'));
      await engine.channels.publish(key('on'), message('after'));
      // Fan-out keeps publish order: once the marker is in, 'after' would have been too.
      await engine.channels.publish(key('marker'), message('marker'));
      await until(() => delivered.length >= 4, 'the marker');
      assert.deepEqual(
        delivered.slice(3).map(([k]) => k),
        [key('marker')],
      );
    });

    it('replays everything after a serial, and reports when it cannot', async () => {
      const first = await engine.channels.publish(key('r'), message('1'));
      await engine.channels.publish(key('r'), message('2'));
      await engine.channels.publish(key('r'), message('3'));
      const from = parseSerial(first.event!.serial)!;
      const replay = await engine.channels.readAfter(key('r'), from.epoch, from.seq, 100);
      assert.equal(replay.complete, true);
      assert.deepEqual(
        replay.events.map((e) => e.messages![0]!.name),
        ['2', '3'],
      );
      assert.deepEqual((await engine.channels.readAfter(key('r'), from.epoch, from.seq + 2, 100)).events, []);
      assert.equal(
        (await engine.channels.readAfter(key('r'), 'otherEpoch', from.seq, 100)).complete,
        false,
        'another epoch',
      );
      assert.equal(
        (await engine.channels.readAfter(key('r'), from.epoch, from.seq + 50, 100)).complete,
        false,
        'from the future',
      );
      assert.equal(
        (await engine.channels.readAfter(key('nothing-here'), from.epoch, 1, 100)).complete,
        false,
        'unknown channel',
      );
    });

    it('bounds the log by count: replay past the bound is incomplete', async () => {
      const first = await engine.channels.publish(key('n'), message('0'));
      for (let i = 1; i <= 6; i++) await engine.channels.publish(key('n'), message(String(i)));
      const from = parseSerial(first.event!.serial)!;
      assert.equal((await engine.channels.readAfter(key('n'), from.epoch, from.seq, 100)).complete, false);
      const last5 = await engine.channels.readLast(key('n'), 'message', 100);
      assert.deepEqual(
        last5.map((e) => e.messages![0]!.name),
        ['2', '3', '4', '5', '6'],
      );
    });

    it('bounds the log by age', async () => {
      const first = await engine.channels.publish(key('age'), { ...message('old'), timestamp: clock.now() });
      clock.advance(61_000);
      await engine.channels.publish(key('age'), { ...message('new'), timestamp: clock.now() });
      const from = parseSerial(first.event!.serial)!;
      assert.deepEqual(
        (await engine.channels.readLast(key('age'), 'message', 10)).map((e) => e.messages![0]!.name),
        ['new'],
      );
      assert.equal((await engine.channels.readAfter(key('age'), from.epoch, from.seq - 1, 100)).complete, false);
      assert.equal((await engine.channels.readAfter(key('age'), from.epoch, from.seq, 100)).complete, true);
    });

    it('reads the last N messages, or those since a time', async () => {
      for (let i = 0; i < 4; i++) {
        await engine.channels.publish(key('last'), { ...message(String(i)), timestamp: clock.now() });
        clock.advance(1000);
      }
      await engine.channels.publish(key('last'), {
        kind: 'presence',
        timestamp: clock.now(),
        presence: [{ action: 2, clientId: 'x' }],
      });
      assert.deepEqual(
        (await engine.channels.readLast(key('last'), 'message', 2)).map((e) => e.messages![0]!.name),
        ['2', '3'],
      );
      assert.deepEqual(
        (await engine.channels.readLast(key('last'), 'message', 10, clock.now() - 2500)).map(
          (e) => e.messages![0]!.name,
        ),
        ['2', '3'],
      );
      assert.equal((await engine.channels.readLast(key('last'), 'presence', 10)).length, 1);
    });

    it('drops messages whose id was published within the idempotency window', async () => {
      const opts = { idempotencyWindow: 10_000 };
      const first = await engine.channels.publish(key('idem'), message('a', { id: 'msg-1' }), opts);
      const again = await engine.channels.publish(key('idem'), message('a', { id: 'msg-1' }), opts);
      assert.equal(again.event, null);
      assert.deepEqual(again.serials, first.serials);
      const mixed = await engine.channels.publish(
        key('idem'),
        { kind: 'message', timestamp: clock.now(), messages: [{ id: 'msg-1' }, { id: 'msg-2' }] },
        opts,
      );
      assert.equal(mixed.event!.messages!.length, 1);
      assert.equal(mixed.serials[0], first.serials[0]);
      assert.equal(mixed.serials[1], mixed.event!.messages![0]!.serial);
      clock.advance(11_000);
      const later = await engine.channels.publish(key('idem'), message('a', { id: 'msg-1' }), opts);
      assert.notEqual(later.event, null);
    });

    it('claims a TokenRequest nonce once per key until it expires', async () => {
      const keyName = key('k');
      const until = clock.now() + 10_000;
      assert.equal(await engine.auth.claimNonce(keyName, 'nonce-0123456789abcdef', until), true);
      assert.equal(await engine.auth.claimNonce(keyName, 'nonce-0123456789abcdef', until), false, 'a replay');
      assert.equal(await engine.auth.claimNonce(key('other'), 'nonce-0123456789abcdef', until), true, 'keys are apart');
      const racing = await Promise.all(
        [1, 2, 3].map(() => engine.auth.claimNonce(keyName, 'racing-0123456789abcdef', until)),
      );
      assert.deepEqual(racing.filter(Boolean).length, 1, 'exactly one concurrent claim wins');
      clock.advance(10_001);
      assert.equal(
        await engine.auth.claimNonce(keyName, 'nonce-0123456789abcdef', clock.now() + 10_000),
        true,
        'claimable again once expired',
      );
    });

    it('stores token revocations by key and target, replaces them, announces them and forgets them', async () => {
      const keyName = key('k');
      const now = clock.now();
      await engine.auth.revoke(
        [
          { keyName, target: 'clientId:a', issuedBefore: now, appliesAt: now },
          { keyName, target: 'revocationKey:g', issuedBefore: now, appliesAt: now + 30_000 },
        ],
        now + 60_000,
      );
      await until(() => heard.length >= 2, 'both revocations');
      assert.deepEqual(heard.map((r) => r.target).sort(), ['clientId:a', 'revocationKey:g']);
      const found = await engine.auth.revocations(keyName, ['clientId:a', 'clientId:b', 'revocationKey:g']);
      assert.deepEqual(found.map((r) => [r.target, r.appliesAt - now]).sort(), [
        ['clientId:a', 0],
        ['revocationKey:g', 30_000],
      ]);
      assert.deepEqual(await engine.auth.revocations(key('other'), ['clientId:a']), [], 'keys are apart');
      clock.advance(1000);
      await engine.auth.revoke(
        [{ keyName, target: 'clientId:a', issuedBefore: clock.now(), appliesAt: clock.now() }],
        clock.now() + 60_000,
      );
      const replaced = await engine.auth.revocations(keyName, ['clientId:a']);
      assert.deepEqual(
        replaced.map((r) => r.issuedBefore),
        [clock.now()],
        'a later revocation replaces',
      );
      clock.advance(60_001);
      assert.deepEqual(
        await engine.auth.revocations(keyName, ['clientId:a', 'revocationKey:g']),
        [],
        'forgotten after retainUntil',
      );
    });

    it('keeps channels and apps apart', async () => {
      const a = await engine.channels.publish(key('x'), message('a'));
      await engine.channels.publish(key('y'), message('b'));
      const from = parseSerial(a.event!.serial)!;
      const otherHead = await engine.channels.head(key('y'));
      assert.notEqual(otherHead.epoch, from.epoch, 'epochs differ between channels');
      assert.equal((await engine.channels.readAfter(key('y'), from.epoch, 0, 10)).complete, false);
    });

    const member = (
      connectionId: string,
      clientId: string,
      action: number,
      id: string,
      data?: string,
    ): PresenceMessage => ({
      action,
      connectionId,
      clientId,
      id,
      timestamp: clock.now(),
      ...(data !== undefined ? { data } : {}),
    });
    const presenceInput = (items: PresenceMessage[]) => ({
      kind: 'presence' as const,
      timestamp: clock.now(),
      presence: items,
    });
    const limits = { maxMembers: 3 };

    it('applies presence: enter, re-enter as update, identical re-enter and absent leave as no-ops', async () => {
      const k = key('p');
      const e1 = await engine.channels.presence(
        k,
        presenceInput([member('c1', 'alice', PresenceAction.ENTER, 'c1:0:0', 'hi')]),
        limits,
      );
      assert.equal(e1!.presence![0]!.action, PresenceAction.ENTER);
      assert.equal(
        await engine.channels.presence(
          k,
          presenceInput([member('c1', 'alice', PresenceAction.ENTER, 'c1:0:0', 'hi')]),
          limits,
        ),
        null,
        'same id: no-op',
      );
      const e2 = await engine.channels.presence(
        k,
        presenceInput([member('c1', 'alice', PresenceAction.ENTER, 'c1:1:0', 'again')]),
        limits,
      );
      assert.equal(e2!.presence![0]!.action, PresenceAction.UPDATE, 're-enter is an update');
      assert.equal(
        await engine.channels.presence(k, presenceInput([member('c1', 'bob', PresenceAction.LEAVE, 'c1:2:0')]), limits),
        null,
        'leave of an absent member: no-op',
      );
      const members = await engine.channels.members(k);
      assert.deepEqual(
        members.map((m) => [m.clientId, m.action, m.data]),
        [['alice', PresenceAction.PRESENT, 'again']],
      );
      const leave = await engine.channels.presence(
        k,
        presenceInput([member('c1', 'alice', PresenceAction.LEAVE, 'c1:3:0')]),
        limits,
      );
      assert.equal(leave!.presence![0]!.data, 'again', 'a leave without data carries the member data');
      assert.deepEqual(await engine.channels.members(k), []);
      assert.ok(
        parseSerial(leave!.serial)!.seq > parseSerial(e2!.serial)!.seq,
        'presence events take serials in the channel order',
      );
    });

    it('keys members by connection and clientId, and refuses enters past maxMembers with 91003', async () => {
      const k = key('limit');
      await engine.channels.presence(
        k,
        presenceInput([
          member('c1', 'a', PresenceAction.ENTER, 'c1:0:0'),
          member('c2', 'a', PresenceAction.ENTER, 'c2:0:0'),
        ]),
        limits,
      );
      await engine.channels.presence(k, presenceInput([member('c1', 'b', PresenceAction.ENTER, 'c1:1:0')]), limits);
      assert.equal((await engine.channels.members(k)).length, 3);
      await assert.rejects(
        engine.channels.presence(k, presenceInput([member('c3', 'z', PresenceAction.ENTER, 'c3:0:0')]), limits),
        (e: AblyError) => e.code === Err.presenceMemberLimit.code,
      );
      // An update of a present member is still allowed at the limit.
      assert.notEqual(
        await engine.channels.presence(
          k,
          presenceInput([member('c1', 'b', PresenceAction.UPDATE, 'c1:2:0', 'x')]),
          limits,
        ),
        null,
      );
    });

    it("synthesises leaves for a connection's members, with ids the SDK treats as synthesised", async () => {
      const k = key('conn');
      await engine.channels.subscribe(k);
      await engine.channels.presence(
        k,
        presenceInput([
          member('conn-A', 'a', PresenceAction.ENTER, 'conn-A:0:0', 'da'),
          member('conn-A', 'b', PresenceAction.ENTER, 'conn-A:0:1'),
          member('conn-B', 'c', PresenceAction.ENTER, 'conn-B:0:0'),
        ]),
        limits,
      );
      clock.advance(10);
      const event = await engine.channels.leaveConnection(k, 'conn-A', clock.now());
      // The order of the leaves is not part of the contract.
      const leaves = [...event!.presence!].sort((x, y) => x.clientId!.localeCompare(y.clientId!));
      assert.deepEqual(
        leaves.map((p) => [p.action, p.clientId, p.connectionId, p.data]),
        [
          [PresenceAction.LEAVE, 'a', 'conn-A', 'da'],
          [PresenceAction.LEAVE, 'b', 'conn-A', undefined],
        ],
      );
      for (const p of event!.presence!) {
        assert.ok(!p.id!.startsWith('conn-A'), 'synthesised id');
        assert.equal(p.timestamp, clock.now());
      }
      assert.deepEqual(
        (await engine.channels.members(k)).map((m) => m.clientId),
        ['c'],
      );
      assert.equal(await engine.channels.leaveConnection(k, 'conn-A', clock.now()), null);
      await until(() => delivered.filter(([, e]) => e.kind === 'presence').length >= 2, 'two presence events');
      assert.equal(delivered.filter(([, e]) => e.kind === 'presence').length, 2);
      assert.equal((await engine.channels.readLast(k, 'presence', 10)).length, 2, 'presence history is in the log');
    });

    it('reads head, replay and members for an attach as of one instant', async () => {
      const k = key('attach');
      const first = await engine.channels.publish(k, message('m1'));
      await engine.channels.presence(k, presenceInput([member('c1', 'a', PresenceAction.ENTER, 'c1:0:0')]), limits);
      await engine.channels.publish(k, message('m2'));
      const from = parseSerial(first.event!.serial)!;
      const state = await engine.channels.attachState(k, { from, replayLimit: 100, members: true });
      assert.equal(state.replay!.complete, true);
      assert.deepEqual(
        state.replay!.events.map((e) => e.kind),
        ['presence', 'message'],
      );
      assert.equal(state.head.seq, state.replay!.events.at(-1)!.seq);
      assert.deepEqual(
        state.members.map((m) => m.clientId),
        ['a'],
      );
      const rewound = await engine.channels.attachState(k, { rewind: { count: 5 }, replayLimit: 100, members: false });
      assert.deepEqual(
        rewound.rewound!.map((e) => e.messages![0]!.name),
        ['m1', 'm2'],
      );
      assert.deepEqual(rewound.members, []);
    });
  });
  restEngineSuite(name, factory);
  chainEngineSuite(name, factory);
}
