/**
 * Two cuts in a realtime publish's path before its fan-out's first write (issue 19, `pubjit`): the
 * publisher's capability and channel name check is not repeated for the credentials and channel it
 * last let through, and the stats count of a publish the engine answered at once is made after the
 * tick's fan-out. Checked with real clients over the wire: a check is still made whenever the
 * credentials or the channel differ from the last ones let through, and every publish is counted
 * for its own app once its ACK has come, with publishes of two apps arriving together.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { Action, Err, type Format, type ProtocolMessage } from '@encke/protocol';
import { FakeClock } from '@encke/server/internal';
import { rest } from './helpers/ably.js';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS } from './helpers/server.js';
import { serverPerSuite } from './helpers/suite.js';

describe('a realtime publish: the check it skips and the count it makes later', () => {
  const clock = new FakeClock(Date.UTC(2025, 0, 15, 10, 30, 20));
  const suite = serverPerSuite({ clock });

  async function connect(format: Format, key: string): Promise<RawClient> {
    return suite.own(await RawClient.connect(suite.ts.port, key, format));
  }

  /** Publishes one message; resolves with 0 for its ACK, or its NACK's error code. */
  async function publish(client: RawClient, channel: string, msgSerial: number): Promise<number> {
    client.send({ action: Action.MESSAGE, channel, msgSerial, messages: [{ data: 'abc' }] });
    const answered = (pm: ProtocolMessage): boolean =>
      (pm.action === Action.ACK || pm.action === Action.NACK) &&
      pm.msgSerial !== undefined &&
      pm.msgSerial <= msgSerial &&
      msgSerial < pm.msgSerial + (pm.count ?? 1);
    const deadline = Date.now() + 5000;
    for (;;) {
      const answer = client.log.find(answered);
      if (answer) return answer.action === Action.ACK ? 0 : (answer.error?.code ?? -1);
      assert.ok(Date.now() < deadline, `no answer to msgSerial ${msgSerial} on ${channel}`);
      await setTimeout(5);
    }
  }

  for (const format of ['json', 'msgpack'] as const satisfies readonly Format[]) {
    it(`checks again when the channel or the credentials differ from the last ones let through (${format})`, async () => {
      const limited = await connect(format, KEYS.limited);
      const full = await connect(format, KEYS.full);
      const limitedToo = await connect(format, KEYS.limited);
      // The same credentials: allowed, then a channel they may not publish on.
      assert.equal(await publish(limited, `allowed:${format}`, 0), 0);
      assert.equal(await publish(limited, `allowed:${format}`, 1), 0);
      assert.equal(await publish(limited, `readonly:${format}`, 2), Err.capabilityDenied.code);
      // A channel let through for other credentials.
      assert.equal(await publish(full, `readonly:${format}-2`, 0), 0);
      assert.equal(await publish(limitedToo, `readonly:${format}-2`, 0), Err.capabilityDenied.code);
      assert.equal(await publish(full, `readonly:${format}-2`, 1), 0);
      // A name refused by its form after a valid one, with the same credentials.
      assert.equal(await publish(full, `[qualified]${format}`, 2), Err.invalidChannelName.code);
      assert.equal(await publish(limited, `allowed:${format}`, 3), 0);
    });
  }

  it('counts every realtime publish for its own app, with two apps publishing together', async () => {
    const stats = rest(suite.ts, 'json');
    const otherStats = rest(suite.ts, 'json', { key: KEYS.other });
    const before = await inboundRealtime(stats);
    const otherBefore = await inboundRealtime(otherStats);
    const one = await connect('json', KEYS.full);
    const other = await connect('msgpack', KEYS.other);
    const rounds = 20;
    for (let i = 0; i < rounds; i++) {
      // Sent back to back: both apps' publishes often come in the same tick, one app's right after the other's.
      one.send({ action: Action.MESSAGE, channel: 'counted', msgSerial: i, messages: [{ data: 'abc' }] });
      other.send({ action: Action.MESSAGE, channel: 'counted', msgSerial: i, messages: [{ data: 'abc' }] });
    }
    const last = (pm: ProtocolMessage): boolean => (pm.msgSerial ?? 0) + (pm.count ?? 1) >= rounds;
    await Promise.all([one.next(Action.ACK, 5000, last), other.next(Action.ACK, 5000, last)]);
    assert.deepEqual(await inboundRealtime(stats), { count: before.count + rounds, data: before.data + 3 * rounds });
    assert.deepEqual(await inboundRealtime(otherStats), {
      count: otherBefore.count + rounds,
      data: otherBefore.data + 3 * rounds,
    });
  });
});

/** The app's realtime inbound message count and data bytes this minute (REST stats). */
async function inboundRealtime(client: ReturnType<typeof rest>): Promise<{ count: number; data: number }> {
  const page = await client.stats({ unit: 'minute' });
  const entries = page.items[0]?.entries ?? {};
  return {
    count: entries['messages.inbound.realtime.messages.count'] ?? 0,
    data: entries['messages.inbound.realtime.messages.data'] ?? 0,
  };
}
