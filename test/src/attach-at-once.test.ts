/**
 * An ATTACH with the memory engine runs to its ATTACHED in the read that brought it (issue 19, open
 * rate): the engine answers at once (ChannelStore.attachState, subscribe), so the attach awaits
 * nothing, and a connection with nothing waiting or under way handles it without making an inbound
 * queue (inbound.ts startAlone). What still goes through the queue: a message that comes while
 * another waits (ATTACH and a publish in one read: ATTACHED, ACK and the fan-out in one write,
 * fan-out-writes), and everything with an engine that answers later (Redis: cluster tests).
 * Observed on the server (the transport's message handler, the flush scheduler, the inbound
 * queue), with real clients over the wire, JSON and msgpack.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Action, type Format } from '@encke/protocol';
import { watchHandling, type HandlingSpy } from './helpers/handling-spy.js';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS } from './helpers/server.js';
import { serverPerSuite } from './helpers/suite.js';

describe('an ATTACH with an engine that answers at once', () => {
  const suite = serverPerSuite();

  for (const format of ['json', 'msgpack'] as const satisfies readonly Format[]) {
    it(`queues its ATTACHED while the read is handled, with no inbound queue (${format})`, async () => {
      const client = suite.own(await RawClient.connect(suite.ts.port, KEYS.full, format));
      const spy = suite.own(watchHandling());
      client.send({ action: Action.ATTACH, channel: `at-once-${format}` });
      const attached = await client.next(Action.ATTACHED);
      assert.equal(attached.channel, `at-once-${format}`);
      assert.deepEqual(spy.queuedWhileHandling, [true], 'the ATTACHED was queued before the handler returned');
      assert.equal(spy.queueReceives, 0, 'no inbound queue took the ATTACH');
    });

    it(`a DETACH and a re-ATTACH right after it keep their order, each answered (${format})`, async () => {
      const client = suite.own(await RawClient.connect(suite.ts.port, KEYS.full, format));
      const channel = `at-once-again-${format}`;
      client.send({ action: Action.ATTACH, channel });
      await client.next(Action.ATTACHED);
      client.send({ action: Action.DETACH, channel });
      client.send({ action: Action.ATTACH, channel });
      await client.next(Action.DETACHED);
      const again = await client.next(Action.ATTACHED);
      assert.equal(again.channel, channel);
    });
  }
});
