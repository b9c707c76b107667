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
import { after, afterEach, before, describe, it } from 'node:test';
import { Action, type Format } from '@encke/protocol';
import { watchHandling, type HandlingSpy } from './helpers/handling-spy.js';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

describe('an ATTACH with an engine that answers at once', () => {
  let ts: TestServer;
  let spy: HandlingSpy | undefined;
  const clients: RawClient[] = [];

  before(async () => {
    ts = await startServer();
  });
  afterEach(() => {
    spy?.stop();
    spy = undefined;
    for (const c of clients.splice(0)) c.close();
  });
  after(async () => {
    await ts.close();
  });

  for (const format of ['json', 'msgpack'] as const satisfies readonly Format[]) {
    it(`queues its ATTACHED while the read is handled, with no inbound queue (${format})`, async () => {
      const client = await RawClient.connect(ts.port, KEYS.full, format);
      clients.push(client);
      spy = watchHandling();
      client.send({ action: Action.ATTACH, channel: `at-once-${format}` });
      const attached = await client.next(Action.ATTACHED);
      assert.equal(attached.channel, `at-once-${format}`);
      assert.deepEqual(spy.queuedWhileHandling, [true], 'the ATTACHED was queued before the handler returned');
      assert.equal(spy.queueReceives, 0, 'no inbound queue took the ATTACH');
    });

    it(`a DETACH and a re-ATTACH right after it keep their order, each answered (${format})`, async () => {
      const client = await RawClient.connect(ts.port, KEYS.full, format);
      clients.push(client);
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
