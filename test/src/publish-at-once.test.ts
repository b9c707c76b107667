/**
 * A publish with the memory engine runs to its ACK in the read that brought it (issue 19, S7 tail: a
 * publish's promise chain was a large part of its garbage): the engine answers at once
 * (ChannelStore.publish), the publisher and the session's publish take no promise, and a connection
 * with no earlier publish awaiting its answer answers it without an inbound queue (inbound.ts
 * publishAlone): a NACK is queued in the read; an ACK is owed, its session's flush scheduled in the
 * read and the ACK made by that flush, after the fan-out (ack-after-fan-out.test.ts). Observed on the server (the transport's message handler, the flush
 * scheduler, the inbound queue), with real clients over the wire, JSON and msgpack; an engine that
 * answers later (Redis) keeps its promises (cluster and engine suites).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Action, Err, type Format } from '@encke/protocol';
import { watchHandling, type HandlingSpy } from './helpers/handling-spy.js';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS } from './helpers/server.js';
import { serverPerSuite } from './helpers/suite.js';

describe('a publish with an engine that answers at once', () => {
  const suite = serverPerSuite();

  async function connect(format: Format, key: string = KEYS.full, extra = ''): Promise<RawClient> {
    const client = suite.own(await RawClient.connect(suite.ts.port, key, format, extra));
    return client;
  }

  for (const format of ['json', 'msgpack'] as const satisfies readonly Format[]) {
    it(`queues its ACK while the read is handled, with no inbound queue, then the fan-out (${format})`, async () => {
      const channel = `pub-at-once-${format}`;
      const publisher = await connect(format);
      publisher.send({ action: Action.ATTACH, channel });
      await publisher.next(Action.ATTACHED);
      const spy = suite.own(watchHandling());
      publisher.send({ action: Action.MESSAGE, channel, msgSerial: 0, messages: [{ name: 'n', data: 'd' }] });
      const ack = await publisher.next(Action.ACK);
      assert.equal(ack.msgSerial, 0);
      assert.equal(ack.count, 1);
      assert.equal(ack.res?.length, 1);
      const echo = await publisher.next(Action.MESSAGE);
      assert.equal(echo.messages?.[0]?.data, 'd');
      assert.deepEqual(spy.fanOutsWhileHandling, [true], 'the engine handed the event over during the read');
      assert.equal(
        spy.queuedWhileHandling[0],
        true,
        'its flush, which makes the ACK, was scheduled before the handler returned',
      );
      assert.equal(spy.queueReceives, 0, 'no inbound queue took the publish');
    });

    it(`NACKs a refused publish while the read is handled, and keeps msgSerial order after it (${format})`, async () => {
      const publisher = await connect(format, KEYS.limited);
      const spy = suite.own(watchHandling());
      publisher.send({ action: Action.MESSAGE, channel: 'readonly:x', msgSerial: 0, messages: [{ data: 'no' }] });
      const nack = await publisher.next(Action.NACK);
      assert.equal(nack.msgSerial, 0);
      assert.equal(nack.error?.code, Err.capabilityDenied.code);
      assert.deepEqual(spy.queuedWhileHandling, [true], 'the NACK was queued before the handler returned');
      assert.equal(spy.queueReceives, 0);
      publisher.send({ action: Action.MESSAGE, channel: 'allowed:x', msgSerial: 1, messages: [{ data: 'yes' }] });
      const ack = await publisher.next(Action.ACK);
      assert.equal(ack.msgSerial, 1);
    });

    it(`answers a re-sent msgSerial with its earlier ACK, publishing it once (${format})`, async () => {
      const channel = `pub-at-once-again-${format}`;
      const subscriber = await connect(format);
      subscriber.send({ action: Action.ATTACH, channel });
      await subscriber.next(Action.ATTACHED);
      const publisher = await connect(format);
      publisher.send({ action: Action.MESSAGE, channel, msgSerial: 0, messages: [{ data: 'once' }] });
      const first = await publisher.next(Action.ACK);
      const spy = suite.own(watchHandling());
      publisher.send({ action: Action.MESSAGE, channel, msgSerial: 0, messages: [{ data: 'once' }] });
      const again = await publisher.next(Action.ACK);
      assert.equal(again.msgSerial, 0);
      assert.deepEqual(again.res, first.res, 'the same serials as the first answer');
      assert.deepEqual(spy.queuedWhileHandling, [true], 'the ACK was queued before the handler returned');
      publisher.send({ action: Action.MESSAGE, channel, msgSerial: 1, messages: [{ data: 'twice' }] });
      const next = await publisher.next(Action.ACK);
      assert.equal(next.msgSerial, 1);
      assert.equal(spy.queueReceives, 0, 'answered without an inbound queue');
      const delivered = [await subscriber.next(Action.MESSAGE), await subscriber.next(Action.MESSAGE)];
      assert.deepEqual(
        delivered.map((m) => m.messages?.[0]?.data),
        ['once', 'twice'],
        'the re-send was not published again',
      );
    });

    it(`keeps a publish of an echo=false connection from it, and no one else (${format})`, async () => {
      const channel = `pub-at-once-echo-${format}`;
      const quiet = await connect(format, KEYS.full, '&echo=false');
      const other = await connect(format);
      for (const c of [quiet, other]) {
        c.send({ action: Action.ATTACH, channel });
        await c.next(Action.ATTACHED);
      }
      quiet.send({ action: Action.MESSAGE, channel, msgSerial: 0, messages: [{ data: 'own' }] });
      await quiet.next(Action.ACK);
      assert.equal((await other.next(Action.MESSAGE)).messages?.[0]?.data, 'own');
      other.send({ action: Action.MESSAGE, channel, msgSerial: 0, messages: [{ data: 'theirs' }] });
      // The next MESSAGE the echo=false connection gets is the other's: its own never came.
      const first = await quiet.next(Action.MESSAGE);
      assert.equal(first.messages?.[0]?.data, 'theirs');
      assert.equal((await other.next(Action.MESSAGE)).messages?.[0]?.data, 'theirs', 'echo on: its own comes back');
    });
  }
});
