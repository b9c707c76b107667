/**
 * What reaches each WebSocket connection's socket, write by write, now that a fan-out's frame goes
 * to a connection's transport as the channel hands it out when nothing is queued for it (issue 19,
 * Session.deliverShared): frames queued earlier in the tick (an ATTACHED, an ACK) stay first and
 * share the write; several channels delivering to one connection in one tick still make one
 * write; the fan-out goes out before the publisher's ACK. Observed on the server, at the
 * transport's write calls, with real clients over the wire.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Action, type Format, type ProtocolMessage } from '@encke/protocol';
import { RawClient } from './helpers/raw-ws.js';
import { recordWrites, type WriteCall } from './helpers/write-spy.js';
import { KEYS } from './helpers/server.js';
import { serverPerSuite } from './helpers/suite.js';
import { carries, publishOn, sendTogether } from './helpers/fan-out.js';

describe('fan-out writes', () => {
  const suite = serverPerSuite();

  async function client(format: Format, ...channels: string[]): Promise<RawClient> {
    const c = suite.own(await RawClient.connect(suite.ts.port, KEYS.full, format));
    for (const channel of channels) {
      c.send({ action: Action.ATTACH, channel });
      await c.next(Action.ATTACHED);
    }
    return c;
  }

  /** The write calls that carried a frame matching `match`, with the frames of each. */
  const writesWith = (rec: { calls: WriteCall[] }, match: (pm: ProtocolMessage) => boolean): WriteCall[] =>
    rec.calls.filter((c) => c.frames.some(match));

  for (const format of ['json', 'msgpack'] as const) {
    it(`an ATTACHED and an ACK queued earlier in the tick go first, in the same write as the fan-out (${format})`, async () => {
      const [self, other] = [await client(format), await client(format, 'order-a')];
      const rec = suite.own(recordWrites());
      // ATTACH then a publish on the same channel, read by the server in one go: the ATTACHED and
      // the ACK are queued in the tick in which the channel hands out the message.
      sendTogether(self, [{ action: Action.ATTACH, channel: 'order-a' }, publishOn('order-a', 'mine', 0)]);
      await self.next(Action.MESSAGE, 5000, (pm) => carries(pm, 'mine'));
      await other.next(Action.MESSAGE, 5000, (pm) => carries(pm, 'mine'));
      const actions = self.log.slice(-3).map((pm) => pm.action);
      assert.deepEqual(actions, [Action.ATTACHED, Action.ACK, Action.MESSAGE], 'in the order queued');
      const [write, ...more] = writesWith(rec, (pm) => carries(pm, 'mine')).filter((c) =>
        c.frames.some((pm) => pm.action === Action.ATTACHED),
      );
      assert.ok(write && more.length === 0, "the publisher's message went out in the write of its ATTACHED");
      assert.deepEqual(
        write.frames.map((pm) => pm.action),
        [Action.ATTACHED, Action.ACK, Action.MESSAGE],
      );
    });

    it(`several channels delivering to a connection in one tick make one write, in publish order (${format})`, async () => {
      const channels = ['multi-a', 'multi-b', 'multi-c'];
      const [publisher, subscriber] = [await client(format), await client(format, ...channels)];
      const rec = suite.own(recordWrites());
      sendTogether(
        publisher,
        channels.map((channel, i) => publishOn(channel, `to-${channel}`, i)),
      );
      for (const channel of channels) await subscriber.next(Action.MESSAGE, 5000, (pm) => pm.channel === channel);
      const writes = writesWith(rec, (pm) => pm.action === Action.MESSAGE && channels.includes(pm.channel ?? ''));
      assert.equal(writes.length, 1, 'one write to the subscriber for the three channels');
      assert.deepEqual(
        writes[0]!.frames.map((pm) => pm.channel),
        channels,
      );
    });

    it(`the fan-out is written before the publisher's ACK, one write per subscriber (${format})`, async () => {
      const publisher = await client(format);
      const subscribers = [await client(format, 'first'), await client(format, 'first')];
      const rec = suite.own(recordWrites());
      publisher.send(publishOn('first', 'fan', 0));
      await publisher.next(Action.ACK);
      for (const s of subscribers) await s.next(Action.MESSAGE, 5000, (pm) => carries(pm, 'fan'));
      const fanOut = writesWith(rec, (pm) => carries(pm, 'fan'));
      assert.equal(fanOut.length, subscribers.length);
      assert.equal(new Set(fanOut.map((c) => c.transport)).size, subscribers.length, 'one write each');
      for (const c of fanOut) assert.equal(c.frames.length, 1);
      const ackAt = rec.calls.findIndex((c) => c.frames.some((pm) => pm.action === Action.ACK));
      const lastFanOut = rec.calls.indexOf(fanOut[fanOut.length - 1]!);
      assert.ok(ackAt > lastFanOut, "the ACK's write comes after every subscriber's");
    });
  }
});
