import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Err, MessageAction, PresenceAction } from '@encke/protocol';
import { RedisEngine, channelKey, silentLogger } from '@encke/server';
import { FakeClock } from '@encke/server/internal';
import { TestRedis } from '../helpers/redis.js';
import { engineSuite } from './suite.js';

const redis = TestRedis.perSuite();

const random = (): string => Math.random().toString(36).slice(2, 8);

function engine(
  clock: FakeClock,
  logMaxCount: number,
  logMaxAge: number,
  prefix = `t${random()}:`,
  nodeId = `node-${random()}`,
): RedisEngine {
  return new RedisEngine({
    url: redis.url,
    prefix,
    clock,
    logger: silentLogger,
    logMaxCount,
    logMaxAge,
    channelRetention: logMaxAge * 2,
    nodeId,
    nodeTimeout: 10_000,
    statsMaxIntervals: 10_080,
    connectionStateTtl: 120_000,
  });
}

/** A started engine whose events go nowhere. */
async function connect(
  clock: FakeClock,
  logMaxCount: number,
  logMaxAge: number,
  prefix?: string,
  nodeId?: string,
): Promise<RedisEngine> {
  const started = engine(clock, logMaxCount, logMaxAge, prefix, nodeId);
  await started.start({
    onChannelEvent: () => undefined,
    onResync: () => undefined,
    onRevocation: () => undefined,
    onTakeover: () => undefined,
  });
  return started;
}

engineSuite('redis', async ({ clock, logMaxCount, logMaxAge }) => engine(clock, logMaxCount, logMaxAge));

describe('redis engine: a connection taken over by another node', () => {
  it("refuses the old node's publishes and presence still in flight, and records the new node's", async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const prefix = `t${random()}:`;
    const a = await connect(clock, 100, 60_000, prefix, 'node-a');
    const b = await connect(clock, 100, 60_000, prefix, 'node-b');
    try {
      const k = channelKey('app', 'moved');
      const record = {
        connectionId: 'conn-1',
        appId: 'app',
        secretHash: 'h1',
        msgSerial: 4,
        remainPresentFor: 0,
        presenceChannels: [],
        owner: 'node-a',
      };
      await a.connections.save(record);
      const event = (name: string) => ({
        kind: 'message' as const,
        id: `conn-1:${name}`,
        timestamp: clock.now(),
        messages: [{ id: `conn-1:${name}:0`, name }],
      });
      await a.channels.publish(k, event('5'), { connection: { id: 'conn-1', msgSerial: 5 } });
      assert.equal(await b.connections.claim('conn-1', 'node-b', 'h2'), 'node-a');
      await assert.rejects(
        a.channels.publish(k, event('6'), { connection: { id: 'conn-1', msgSerial: 6 } }),
        (err: { code?: number }) => err.code === Err.superseded.code,
      );
      const enter = {
        kind: 'presence' as const,
        timestamp: clock.now(),
        presence: [
          {
            action: PresenceAction.ENTER,
            clientId: 'c',
            connectionId: 'conn-1',
            id: 'conn-1:7:0',
            timestamp: clock.now(),
          },
        ],
      };
      await assert.rejects(
        a.channels.presence(k, enter, { maxMembers: 10, connection: { id: 'conn-1', msgSerial: 7 } }),
        (err: { code?: number }) => err.code === Err.superseded.code,
      );
      assert.equal((await b.connections.load('conn-1'))?.msgSerial, 5, 'the refused writes recorded nothing');
      await b.channels.publish(k, event('6'), { connection: { id: 'conn-1', msgSerial: 6 } });
      assert.equal((await b.connections.load('conn-1'))?.msgSerial, 6);
      assert.deepEqual(
        (await b.channels.readLast(k, 'message', 10)).map((e) => e.messages?.[0]?.name),
        ['5', '6'],
        'the log has each message once',
      );
      assert.deepEqual(await b.channels.members(k), [], 'the refused enter left no member');
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('redis engine: chains of messages that left the log', () => {
  it('are dropped from the chain hash once it holds twice as many as the log', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const prefix = `t${random()}:`;
    const e = await connect(clock, 5, 60_000, prefix);
    try {
      const k = channelKey('app', 'many');
      const chainsKey = `${prefix}{${k}}:x`;
      let most = 0;
      for (let i = 0; i < 60; i++) {
        const { serials } = await e.channels.publish(k, {
          kind: 'message',
          timestamp: clock.now(),
          messages: [{ name: `m${i}`, action: MessageAction.CREATE }],
        });
        const stored = (await e.channels.message(k, serials[0]!))!;
        const outcome = await e.channels.amend(k, {
          serial: serials[0]!,
          token: stored.token,
          events: [
            {
              kind: 'message',
              timestamp: clock.now(),
              messages: [{ ...stored.latest, action: MessageAction.UPDATE, version: { timestamp: clock.now() } }],
            },
          ],
        });
        assert.equal(typeof outcome, 'object');
        most = Math.max(most, Number(await redis.command('HLEN', chainsKey)));
      }
      assert.ok(most <= 2 * 5 + 17, `the chain hash held ${most} fields`);
      assert.ok(Number(await redis.command('PTTL', chainsKey)) > 0, 'the chain hash expires with the channel');
    } finally {
      await e.close();
    }
  });
});
