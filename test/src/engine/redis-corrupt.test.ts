/**
 * Records in Redis that are not what encke wrote (corrupt, another version's, a foreign writer under
 * the prefix) are checked, not cast: the Redis engine skips each one where it reads it, keeps
 * serving the good ones, and logs each kind once, without the record's content.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeMsgpackValue } from '@encke/protocol';
import { RedisEngine, channelKey, silentLogger, type Logger } from '@encke/server';
import { FakeClock } from '@encke/server/internal';
import { eventually } from '../helpers/ably.js';
import { TestRedis } from '../helpers/redis.js';

const redis = TestRedis.perSuite();

/** A secret-looking string put in corrupt records: it must never reach the log. */
const SECRET = 'sekrit-0123456789';

interface Started {
  engine: RedisEngine;
  prefix: string;
  nodeId: string;
  /** Warnings logged: their fields as JSON, and their message. */
  warnings: { fields: string; msg: string | undefined }[];
  revocations: string[];
  /** Channel events heard on pub/sub: the channel and the first message's name. */
  heard: string[];
  /** Errors logged: their messages. */
  errors: string[];
}

async function start(clock: FakeClock): Promise<Started> {
  const prefix = `c${Math.random().toString(36).slice(2, 8)}:`;
  const nodeId = 'node-c';
  const warnings: Started['warnings'] = [];
  const revocations: string[] = [];
  const heard: string[] = [];
  const errors: string[] = [];
  const logger: Logger = {
    ...silentLogger,
    error: (obj: object | string, msg?: string) => errors.push(typeof obj === 'string' ? obj : (msg ?? '')),
    warn: (obj: object | string, msg?: string) =>
      warnings.push(typeof obj === 'string' ? { fields: '{}', msg: obj } : { fields: JSON.stringify(obj), msg }),
    child: () => logger,
  };
  const engine = new RedisEngine({
    url: redis.url,
    prefix,
    clock,
    logger,
    logMaxCount: 100,
    logMaxAge: 60_000,
    channelRetention: 120_000,
    nodeId,
    nodeTimeout: 10_000,
    statsMaxIntervals: 10,
    connectionStateTtl: 120_000,
  });
  await engine.start({
    onChannelEvent: (key, event) => heard.push(`${key} ${event.messages?.[0]?.name ?? ''}`),
    onResync: () => undefined,
    onRevocation: (r) => revocations.push(r.target),
    onTakeover: () => undefined,
  });
  return { engine, prefix, nodeId, warnings, revocations, heard, errors };
}

/** How many warnings named a record of `kind` (and checks that none logged a record's content). */
function logged(s: Started, kind: string): number {
  for (const w of s.warnings) assert.ok(!w.fields.includes(SECRET) && !w.msg?.includes(SECRET), 'a record was logged');
  return s.warnings.filter((w) => w.fields === JSON.stringify({ kind })).length;
}

describe('redis engine: corrupt records', () => {
  it('an app record: no app, logged once', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const s = await start(clock);
    try {
      // Far from expiry but without a config; then text that is no JSON at all.
      await redis.command('SET', `${s.prefix}app:noconfig`, JSON.stringify({ expires: 9e15, created: 1, SECRET }));
      await redis.command('SET', `${s.prefix}app:notjson`, `{"secret":"${SECRET}"`);
      assert.equal(await s.engine.apps.get('noconfig'), undefined);
      assert.equal(await s.engine.apps.get('notjson'), undefined);
      assert.equal(logged(s, 'app'), 1, JSON.stringify(s.warnings));
    } finally {
      await s.engine.close();
    }
  });

  it('stored revocations: the corrupt one skipped, the good one kept', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const s = await start(clock);
    try {
      const now = clock.now();
      await s.engine.auth.revoke(
        [{ keyName: 'app.k', target: 'clientId:good', issuedBefore: now, appliesAt: now }],
        now + 60_000,
      );
      await redis.command('SET', `${s.prefix}revoked:app.k\nclientId:bad`, JSON.stringify({ target: SECRET }));
      const found = await s.engine.auth.revocations('app.k', ['clientId:bad', 'clientId:good']);
      assert.deepEqual(
        found.map((r) => r.target),
        ['clientId:good'],
      );
      assert.equal(logged(s, 'revocation'), 1);
    } finally {
      await s.engine.close();
    }
  });

  it('revocation announcements: garbage and bad items skipped, the node keeps hearing the good ones', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const s = await start(clock);
    try {
      const topic = `${s.prefix}revocations`;
      const good = (target: string) => ({ keyName: 'app.k', target, issuedBefore: 1, appliesAt: 1 });
      await redis.command('PUBLISH', topic, `not json ${SECRET}`);
      await redis.command('PUBLISH', topic, JSON.stringify({ not: 'an array' }));
      await redis.command('PUBLISH', topic, JSON.stringify([{ keyName: SECRET }, good('clientId:one'), null]));
      await redis.command('PUBLISH', topic, JSON.stringify([good('clientId:two')]));
      await eventually(() => s.revocations.length >= 2, 5000, 'the good announcements');
      assert.deepEqual(s.revocations, ['clientId:one', 'clientId:two']);
      assert.equal(logged(s, 'revocation announcement'), 1);
    } finally {
      await s.engine.close();
    }
  });

  it("a node's occupancy report: skipped in the sum", async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const s = await start(clock);
    try {
      const k = channelKey('app', 'occ');
      await redis.command('HSET', `${s.prefix}{${k}}:o`, s.nodeId, JSON.stringify({ connections: SECRET }));
      assert.equal(await s.engine.channels.occupancy(k), null);
      assert.equal(logged(s, 'occupancy'), 1);
    } finally {
      await s.engine.close();
    }
  });

  it("a connection's presence channels: the connection is not found (not resumable)", async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const s = await start(clock);
    try {
      const record = {
        connectionId: 'conn-bad',
        appId: 'app',
        secretHash: 'h',
        msgSerial: 1,
        remainPresentFor: 0,
        presenceChannels: ['a'],
        owner: s.nodeId,
      };
      await s.engine.connections.save(record);
      assert.deepEqual((await s.engine.connections.load('conn-bad'))?.presenceChannels, ['a']);
      await redis.command('HSET', `${s.prefix}conn:conn-bad`, 'pc', JSON.stringify([SECRET, 1]));
      assert.equal(await s.engine.connections.load('conn-bad'), undefined);
      assert.equal(logged(s, 'connection'), 1);
    } finally {
      await s.engine.close();
    }
  });

  it('a channel event on pub/sub not in the shape encke writes: dropped and logged, the next one heard', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const s = await start(clock);
    try {
      const k = channelKey('app', 'events');
      await s.engine.channels.subscribe(k);
      const topic = `${s.prefix}ev:${k}`;
      const entry = (body: unknown) =>
        Buffer.concat([Buffer.from('e1|1|170000000000000'), Buffer.from(encodeMsgpackValue(body))]);
      for (const body of [
        { k: 0, m: SECRET },
        { k: 7, m: [{ name: SECRET }] },
        { k: 0, m: [SECRET] },
        { k: 0, i: 5 },
        [SECRET],
      ])
        await redis.command('PUBLISH', topic, entry(body));
      await redis.command('PUBLISH', topic, Buffer.from(`e1|1|notatimestamp__${SECRET}`));
      await s.engine.channels.publish(k, { kind: 'message', timestamp: clock.now(), messages: [{ name: 'good' }] });
      await eventually(() => s.heard.length >= 1, 5000, 'the good event');
      assert.deepEqual(s.heard, [`${k} good`]);
      assert.equal(s.errors.length, 6, JSON.stringify(s.errors));
      for (const e of s.errors) assert.ok(!e.includes(SECRET));
    } finally {
      await s.engine.close();
    }
  });

  it('a corrupt log entry or presence member: the read fails with an internal error, not a made-up event', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const s = await start(clock);
    try {
      const k = channelKey('app', 'log');
      const input = { kind: 'message' as const, timestamp: clock.now(), messages: [{ name: 'one' }] };
      await s.engine.channels.publish(k, input);
      const history = () => s.engine.channels.history(k, { kind: 'message', direction: 'backwards', limit: 10 });
      assert.deepEqual(
        (await history()).entries.map((e) => e.event.messages?.[e.index]?.name),
        ['one'],
      );
      const corrupt = Buffer.concat([Buffer.from('170000000000000'), Buffer.from(encodeMsgpackValue({ k: 0, m: 1 }))]);
      await redis.command('LSET', `${s.prefix}{${k}}:l`, '0', corrupt);
      await assert.rejects(history(), (err: unknown) => err instanceof Error && /corrupt/.test(err.message));

      const clientId = 'member';
      const enter = {
        kind: 'presence' as const,
        timestamp: clock.now(),
        presence: [{ action: 2, clientId, connectionId: 'c1' }],
      };
      await s.engine.channels.presence(k, { ...enter, connectionId: 'c1' }, { maxMembers: 10 });
      assert.deepEqual(
        (await s.engine.channels.members(k)).map((m) => m.clientId),
        [clientId],
      );
      const member = Buffer.from(encodeMsgpackValue({ action: SECRET }));
      assert.equal(await redis.command('HSET', `${s.prefix}{${k}}:p`, `c1\u0000${clientId}`, member), '0');
      await assert.rejects(s.engine.channels.members(k), /corrupt/);
    } finally {
      await s.engine.close();
    }
  });
});
