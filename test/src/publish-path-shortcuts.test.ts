/**
 * What a realtime publish's path must keep whatever shortcuts it takes (issue 19: `pub7` tried some, since
 * reverted; the publisher already skips the capability check for the credentials and channel it last let
 * through). Checked with real clients over the wire, JSON and msgpack: every publish reaches its own
 * app's channel whatever the connection published before, an ACK's serials are the delivered messages'
 * own (several messages in one publish, an idempotent re-publish), and text beyond ASCII arrives as sent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Action, type Format, type ProtocolMessage } from '@encke/protocol';
import { rest } from './helpers/ably.js';
import { RawClient, receivedData } from './helpers/raw-ws.js';
import { KEYS } from './helpers/server.js';
import { serverPerSuite } from './helpers/suite.js';

const FORMATS = ['json', 'msgpack'] as const satisfies readonly Format[];

describe("a realtime publish's shortened path", () => {
  const suite = serverPerSuite();

  async function connect(format: Format, key: string): Promise<RawClient> {
    return suite.own(await RawClient.connect(suite.ts.port, key, format));
  }

  async function subscriber(format: Format, key: string, channel: string): Promise<RawClient> {
    const client = await connect(format, key);
    client.send({ action: Action.ATTACH, channel });
    await client.next(Action.ATTACHED);
    return client;
  }

  function ackOf(client: RawClient, msgSerial: number): Promise<ProtocolMessage> {
    return client.next(
      Action.ACK,
      5000,
      (pm) => pm.msgSerial !== undefined && pm.msgSerial <= msgSerial && msgSerial < pm.msgSerial + (pm.count ?? 1),
    );
  }

  for (const format of FORMATS) {
    it(`puts each publish on its own app's channel, whatever was published before (${format})`, async () => {
      const a = `key-a-${format}`;
      const b = `key-b-${format}`;
      const subA = await subscriber(format, KEYS.full, a);
      const subB = await subscriber(format, KEYS.full, b);
      const otherA = await subscriber(format, KEYS.other, a);
      const one = await connect(format, KEYS.full);
      const two = await connect(format, KEYS.full);
      const other = await connect(format, KEYS.other);
      // The same channel name in another app, other credentials of the same app, and a channel
      // switch, each right after a publish the publisher let through.
      const sends: [RawClient, string, string][] = [
        [one, a, 'one-a-0'],
        [other, a, 'other-a-0'],
        [one, a, 'one-a-1'],
        [one, b, 'one-b-0'],
        [two, b, 'two-b-0'],
        [one, a, 'one-a-2'],
        [other, a, 'other-a-1'],
        [two, a, 'two-a-0'],
      ];
      const serials = new Map<RawClient, number>();
      for (const [client, channel, data] of sends) {
        const msgSerial = serials.get(client) ?? 0;
        serials.set(client, msgSerial + 1);
        client.send({ action: Action.MESSAGE, channel, msgSerial, messages: [{ data }] });
        await ackOf(client, msgSerial);
      }
      assert.deepEqual(await receivedData(subA, a, 4), ['one-a-0', 'one-a-1', 'one-a-2', 'two-a-0']);
      assert.deepEqual(await receivedData(subB, b, 2), ['one-b-0', 'two-b-0']);
      assert.deepEqual(await receivedData(otherA, a, 2), ['other-a-0', 'other-a-1']);
      // Nothing else came: a publish put on the wrong channel would be here.
      const late = (client: RawClient): number => client.log.filter((pm) => pm.action === Action.MESSAGE).length;
      assert.deepEqual([late(subA), late(subB), late(otherA)], [4, 2, 2]);
    });

    it(`answers a publish of several messages with their serials, and a re-publish with the same (${format})`, async () => {
      const channel = `serials-${format}`;
      const sub = await subscriber(format, KEYS.full, channel);
      const pub = await connect(format, KEYS.full);
      const texts = ['héllo', 'ünïcödé ✓', 'clef 𝄞 and “quotes”'];
      pub.send({ action: Action.MESSAGE, channel, msgSerial: 0, messages: texts.map((data) => ({ data })) });
      const ack = await ackOf(pub, 0);
      const delivered = await sub.next(Action.MESSAGE, 5000, (pm) => pm.channel === channel);
      assert.deepEqual(
        delivered.messages?.map((m) => m.data),
        texts,
      );
      const serials = ack.res?.[0]?.serials;
      assert.equal(serials?.length, 3);
      assert.equal(new Set(serials).size, 3);
      // The delivered messages leave their serials out when derivable (TM2): the ACK's are the log's, in order.
      const history = await rest(suite.ts, 'json').channels.get(channel).history({ direction: 'forwards' });
      assert.deepEqual(
        history.items.map((m) => m.serial),
        serials,
      );
      // Idempotent: messages with their own ids, published twice, get the first publish's serials.
      const ids = [
        { id: `id-${format}:0`, data: 'x' },
        { id: `id-${format}:1`, data: 'y' },
      ];
      pub.send({ action: Action.MESSAGE, channel, msgSerial: 1, messages: ids });
      const first = (await ackOf(pub, 1)).res?.[0]?.serials;
      pub.send({ action: Action.MESSAGE, channel, msgSerial: 2, messages: ids });
      const again = (await ackOf(pub, 2)).res?.[0]?.serials;
      assert.equal(first?.length, 2);
      assert.deepEqual(again, first);
    });
  }
});
