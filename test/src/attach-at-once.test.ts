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
import { FlushScheduler, InboundQueue, WebSocketTransport } from '@encke/server/internal';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

/** What happened while a transport's message handler ran, and inbound queue use, until `stop`. */
function watch(): { queuedWhileHandling: boolean[]; queueReceives: number; stop: () => void } {
  const seen = { queuedWhileHandling: [] as boolean[], queueReceives: 0 };
  const transport = WebSocketTransport.prototype;
  const scheduler = FlushScheduler.prototype;
  const queue = InboundQueue.prototype;
  const { handleMessage } = transport;
  const { session } = scheduler;
  const { receive } = queue;
  let handling = false;
  transport.handleMessage = function (this: WebSocketTransport, ...args: Parameters<typeof handleMessage>) {
    handling = true;
    try {
      handleMessage.apply(this, args);
    } finally {
      handling = false;
    }
  };
  scheduler.session = function (this: FlushScheduler, ...args: Parameters<typeof session>) {
    seen.queuedWhileHandling.push(handling);
    session.apply(this, args);
  };
  queue.receive = function (this: InboundQueue, ...args: Parameters<typeof receive>) {
    seen.queueReceives++;
    receive.apply(this, args);
  };
  return Object.assign(seen, {
    stop: () => {
      transport.handleMessage = handleMessage;
      scheduler.session = session;
      queue.receive = receive;
    },
  });
}

describe('an ATTACH with an engine that answers at once', () => {
  let ts: TestServer;
  let spy: ReturnType<typeof watch> | undefined;
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
      spy = watch();
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
