/**
 * A publish's ACK is made after the fan-out's first write, not in the read that brought the publish
 * (issue 19, `ackdefer`: session/session-outbound.ts): the read only records what the ACK needs. What
 * must not change, checked over the wire with raw WebSocket clients, JSON and msgpack: nothing
 * overtakes an ACK (the publisher's own echo, a NACK, the reply to a later message of the same read),
 * publishes sent in one write are ACKed in order in ranges with the log's serials, a msgSerial re-sent
 * in the same read gets the answer of the publish it repeats, an idempotent re-publish gets the first
 * one's serials, a transport dropped in the same read leaves the answer for the resumed connection's
 * re-send, and a connection closed right after a publish ends cleanly. With the SDK: concurrent publishes
 * on an attached channel resolve with the log's serials and come back in order.
 */
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { Action, Err, readField, type Format, type ProtocolMessage } from '@encke/protocol';
import { AckLedger, WebSocketTransport } from '@encke/server/internal';
import { WS_VARIANTS, closeAll, connect as connectSdk, eventually, realtime, rest } from './helpers/ably.js';
import { RawClient, receivedData } from './helpers/raw-ws.js';
import { KEYS } from './helpers/server.js';
import { serverPerSuite } from './helpers/suite.js';

const FORMATS = ['json', 'msgpack'] as const satisfies readonly Format[];

/** Sends `pms` in one TCP write (the server reads them in one read). */
function together(client: RawClient, pms: readonly ProtocolMessage[]): void {
  const socket = readField(client.ws, '_socket');
  assert.ok(socket instanceof Socket, "ws keeps the client's TCP socket as _socket");
  socket.cork();
  for (const pm of pms) client.send(pm);
  socket.uncork();
}

/** Whether each ACK or NACK the server made was made while a WebSocket message handler ran (the read). */
function watchAckMaking(): { readonly madeInRead: boolean[]; stop(): void } {
  const transport = WebSocketTransport.prototype;
  const ledger = AckLedger.prototype;
  const { handleMessage } = transport;
  const { reply } = ledger;
  let reading = false;
  const madeInRead: boolean[] = [];
  transport.handleMessage = function (this: WebSocketTransport, ...args: Parameters<typeof handleMessage>) {
    reading = true;
    try {
      handleMessage.apply(this, args);
    } finally {
      reading = false;
    }
  };
  ledger.reply = function (this: AckLedger, ...args: Parameters<typeof reply>) {
    madeInRead.push(reading);
    return reply.apply(this, args);
  };
  return {
    madeInRead,
    stop: () => {
      transport.handleMessage = handleMessage;
      ledger.reply = reply;
    },
  };
}

/** The answers (ACK, NACK) and replies other than MESSAGE in `client`'s log from `from` on: `ACK 0+2`, `NACK 1`, `DETACHED`. */
function replies(client: RawClient, from = 0): string[] {
  return client.log
    .slice(from)
    .filter((pm) => pm.action !== Action.MESSAGE && pm.action !== Action.HEARTBEAT)
    .map((pm) => {
      if (pm.action === Action.ACK) return `ACK ${pm.msgSerial}+${pm.count}`;
      if (pm.action === Action.NACK) return `NACK ${pm.msgSerial}+${pm.count}`;
      return String(pm.action);
    });
}

/** Every ACK's results in `client`'s log, by msgSerial, in the order received. */
function ackResults(client: RawClient): [number, (string | null)[]][] {
  const out: [number, (string | null)[]][] = [];
  for (const pm of client.log) {
    if (pm.action !== Action.ACK) continue;
    (pm.res ?? []).forEach((r, i) => out.push([pm.msgSerial! + i, r.serials ?? []]));
  }
  return out;
}

function publish(channel: string, msgSerial: number, data: string, id?: string): ProtocolMessage {
  return { action: Action.MESSAGE, channel, msgSerial, messages: [id === undefined ? { data } : { id, data }] };
}

describe("a publish's ACK made after the fan-out", () => {
  const suite = serverPerSuite();

  async function connect(format: Format, key: string = KEYS.full, extra = ''): Promise<RawClient> {
    return suite.own(await RawClient.connect(suite.ts.port, key, format, extra));
  }

  async function attached(format: Format, channel: string, key: string = KEYS.full): Promise<RawClient> {
    const client = await connect(format, key);
    client.send({ action: Action.ATTACH, channel });
    await client.next(Action.ATTACHED);
    return client;
  }

  async function logSerials(channel: string): Promise<string[]> {
    const page = await rest(suite.ts, 'json').channels.get(channel).history({ direction: 'forwards', limit: 1000 });
    return page.items.map((m) => {
      assert.ok(typeof m.serial === 'string', 'every logged message has a serial');
      return m.serial;
    });
  }

  for (const format of FORMATS) {
    it(`makes the ACK outside the read, and sends it before the publisher's own echo (${format})`, async () => {
      const channel = `ackdefer-echo-${format}`;
      const other = await attached(format, channel);
      const publisher = await attached(format, channel);
      const from = publisher.log.length;
      const spy = suite.own(watchAckMaking());
      publisher.send(publish(channel, 0, 'own'));
      assert.deepEqual(await receivedData(other, channel, 1), ['own']);
      await publisher.next(Action.MESSAGE, 5000, (m) => m.channel === channel);
      const actions = publisher.log
        .slice(from)
        .map((pm) => pm.action)
        .filter((a) => a !== Action.HEARTBEAT);
      assert.deepEqual(actions, [Action.ACK, Action.MESSAGE], 'the ACK, then the echo');
      assert.deepEqual(spy.madeInRead, [false], 'the ACK was made after the read');
      assert.deepEqual(ackResults(publisher), [[0, await logSerials(channel)]]);
    });

    it(`keeps a NACK between two ACKs and a later reply of the same read behind them (${format})`, async () => {
      const channel = `allowed:ackdefer-nack-${format}`;
      const publisher = await attached(format, channel, KEYS.limited);
      const from = publisher.log.length;
      together(publisher, [
        publish(channel, 0, 'a'),
        publish(`readonly:ackdefer-${format}`, 1, 'refused'),
        publish(channel, 2, 'b'),
        { action: Action.DETACH, channel },
      ]);
      await publisher.next(Action.DETACHED);
      assert.deepEqual(replies(publisher, from), ['ACK 0+1', 'NACK 1+1', 'ACK 2+1', String(Action.DETACHED)]);
      const nack = publisher.log.find((pm) => pm.action === Action.NACK);
      assert.equal(nack?.error?.code, Err.capabilityDenied.code);
      const serials = await logSerials(channel);
      assert.deepEqual(ackResults(publisher), [
        [0, [serials[0]!]],
        [2, [serials[1]!]],
      ]);
    });

    it(`ACKs many publishes sent in one write in order, in ranges, with the log's serials (${format})`, async () => {
      const channel = `ackdefer-many-${format}`;
      const count = 150; // past the bound on ACKs owed at once (MAX_DUE_ACKS)
      const subscriber = await attached(format, channel);
      const publisher = await connect(format);
      together(
        publisher,
        Array.from({ length: count }, (_, i) => publish(channel, i, `m${i}`)),
      );
      assert.deepEqual(
        await receivedData(subscriber, channel, count),
        Array.from({ length: count }, (_, i) => `m${i}`),
      );
      let covered = 0;
      while (covered < count) {
        const ack = await publisher.next(Action.ACK);
        assert.equal(ack.msgSerial, covered, 'ranges are contiguous and in order');
        assert.equal(ack.res?.length, ack.count, 'one result per acknowledged publish');
        covered += ack.count!;
      }
      assert.equal(covered, count);
      const acks = publisher.log.filter((pm) => pm.action === Action.ACK);
      assert.ok(acks.length < count, `${acks.length} ACK frames for ${count} publishes sent in one write`);
      const serials = await logSerials(channel);
      assert.deepEqual(
        ackResults(publisher),
        serials.map((s, i) => [i, [s]]),
      );
    });

    it(`answers a msgSerial re-sent in the same read as its publish with that publish's answer (${format})`, async () => {
      const channel = `ackdefer-again-${format}`;
      const subscriber = await attached(format, channel);
      const publisher = await connect(format);
      together(publisher, [publish(channel, 0, 'once'), publish(channel, 0, 'once'), publish(channel, 1, 'then')]);
      assert.deepEqual(await receivedData(subscriber, channel, 2), ['once', 'then']);
      await publisher.next(Action.ACK, 5000, (pm) => pm.msgSerial! + pm.count! > 1);
      const [first, second] = await logSerials(channel);
      assert.deepEqual(ackResults(publisher), [
        [0, [first!]],
        [0, [first!]],
        [1, [second!]],
      ]);
      assert.equal((await logSerials(channel)).length, 2, 'the re-send was not published again');
    });

    it(`gives an idempotent re-publish in the same read the first publish's serials (${format})`, async () => {
      const channel = `ackdefer-idempotent-${format}`;
      const subscriber = await attached(format, channel);
      const publisher = await connect(format);
      const id = `ackdefer-${format}:0`;
      together(publisher, [publish(channel, 0, 'x', id), publish(channel, 1, 'x', id), publish(channel, 2, 'y')]);
      assert.deepEqual(await receivedData(subscriber, channel, 2), ['x', 'y']);
      await publisher.next(Action.ACK, 5000, (pm) => pm.msgSerial! + pm.count! > 2);
      const [first, second] = await logSerials(channel);
      assert.deepEqual(ackResults(publisher), [
        [0, [first!]],
        [1, [first!]],
        [2, [second!]],
      ]);
    });

    it(`keeps the answer of a publish whose transport was dropped in the same read for the resume (${format})`, async () => {
      const channel = `ackdefer-resume-${format}`;
      const subscriber = await attached(format, channel);
      const publisher = await connect(format);
      const connected = publisher.log.find((pm) => pm.action === Action.CONNECTED);
      const key = connected?.connectionDetails?.connectionKey;
      assert.ok(key !== undefined);
      together(publisher, [publish(channel, 0, 'before the drop'), { action: Action.DISCONNECT }]);
      await publisher.waitClosed();
      assert.deepEqual(await receivedData(subscriber, channel, 1), ['before the drop']);
      const resumed = await connect(format, KEYS.full, `&resume=${encodeURIComponent(key)}`);
      const again = resumed.log.find((pm) => pm.action === Action.CONNECTED);
      assert.equal(again?.connectionId, connected?.connectionId, 'resumed');
      assert.equal(again?.error, undefined);
      resumed.send(publish(channel, 0, 'before the drop'));
      await resumed.next(Action.ACK);
      assert.deepEqual(ackResults(resumed), [[0, await logSerials(channel)]], "the first publish's answer");
      resumed.send(publish(channel, 1, 'after'));
      assert.deepEqual(
        await receivedData(subscriber, channel, 1),
        ['after'],
        'published once: the next is the new one',
      );
    });

    it(`ends a connection closed right after a publish cleanly (${format})`, async () => {
      const channel = `ackdefer-close-${format}`;
      const subscriber = await attached(format, channel);
      const publisher = await connect(format);
      const from = publisher.log.length;
      together(publisher, [publish(channel, 0, 'last words'), { action: Action.CLOSE }]);
      await publisher.waitClosed();
      const got = replies(publisher, from);
      assert.equal(got[got.length - 1], String(Action.CLOSED), 'CLOSED is the last frame');
      assert.ok(got.length <= 2 && (got.length === 1 || got[0] === 'ACK 0+1'), `only an ACK before it: ${got.join()}`);
      assert.deepEqual(await receivedData(subscriber, channel, 1), ['last words']);
      const next = await connect(format);
      next.send(publish(channel, 0, 'next'));
      assert.equal((await next.next(Action.ACK)).msgSerial, 0);
      assert.deepEqual(await receivedData(subscriber, channel, 1), ['next']);
    });
  }
});

describe("a publish's ACK made after the fan-out, with the SDK", () => {
  const suite = serverPerSuite();

  for (const variant of WS_VARIANTS) {
    it(`resolves concurrent publishes with the log's serials, their echoes in order (${variant.name})`, async () => {
      const client = await connectSdk(realtime(suite.ts, variant));
      try {
        const name = `ackdefer-sdk-${variant.format}`;
        const channel = client.channels.get(name);
        const echoes: unknown[] = [];
        await channel.subscribe((m) => echoes.push(readField(m, 'data')));
        const sent = Array.from({ length: 30 }, (_, i) => `s${i}`);
        const results = await Promise.all(sent.map((data) => channel.publish('n', data)));
        await eventually(() => echoes.length === sent.length, 5000, 'every echo');
        assert.deepEqual(echoes, sent);
        const history = await rest(suite.ts, 'json').channels.get(name).history({ direction: 'forwards' });
        assert.deepEqual(
          results.map((r) => r?.serials[0]),
          history.items.map((m) => m.serial),
        );
        assert.equal(client.connection.state, 'connected');
      } finally {
        await closeAll(client);
      }
    });
  }
});
