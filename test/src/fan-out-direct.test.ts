/**
 * A fan-out's delivery made from the attachment without reading the session (issue 19, fan7): the
 * attachment keeps the connection's transport and echo (Attachment.link), and the session's "frames
 * queued this tick" is kept on the transport (Transport.queued). What the session would have done must
 * still happen: frames queued earlier in the tick go first, a tick that queued leaves the next fan-out
 * written at once again, echo=false leaves the publisher's own message out, a resumed connection gets its
 * deliveries on the new transport, and a consumer dropped mid-fan-out leaves the others' deliveries whole.
 * Real server, real clients over the wire, JSON and msgpack.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Action, type Format, type ProtocolMessage } from '@encke/protocol';
import { LocalChannel, type OutboundFrame, Session, WebSocketTransport } from '@encke/server/internal';
import { eventually, rest } from './helpers/ably.js';
import { RawCometClient } from './helpers/raw-comet.js';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS, startServer } from './helpers/server.js';
import { serverPerSuite } from './helpers/suite.js';
import { carries, publishOn, sendTogether, tcpSocketOf } from './helpers/fan-out.js';

/** One `writeOne` of a WebSocket transport: its frames, and whether it came within a channel's fan-out. */
interface DirectWrite {
  readonly frames: readonly ProtocolMessage[];
  readonly inFanOut: boolean;
}

/**
 * Records every WebSocket `writeOne` and whether a channel's flush (the fan-out) made it, and counts the
 * fan-out deliveries that went through the session (Session.deliverShared), until `stop`.
 */
function recordDirect(): { calls: DirectWrite[]; viaSession: () => number; stop: () => void } {
  const channel = LocalChannel.prototype;
  const transport = WebSocketTransport.prototype;
  const session = Session.prototype;
  const { flush } = channel;
  const { writeOne } = transport;
  const { deliverShared } = session;
  const calls: DirectWrite[] = [];
  let inFanOut = 0;
  let viaSession = 0;
  session.deliverShared = function (this: Session, frame: OutboundFrame, direct: boolean) {
    viaSession++;
    return deliverShared.call(this, frame, direct);
  };
  channel.flush = function (this: LocalChannel, last: boolean) {
    inFanOut++;
    try {
      flush.call(this, last);
    } finally {
      inFanOut--;
    }
  };
  transport.writeOne = function (this: WebSocketTransport, frame: OutboundFrame) {
    calls.push({ frames: [frame.pm], inFanOut: inFanOut > 0 });
    writeOne.call(this, frame);
  };
  return {
    calls,
    viaSession: () => viaSession,
    stop: () => {
      channel.flush = flush;
      transport.writeOne = writeOne;
      session.deliverShared = deliverShared;
    },
  };
}

describe('fan-out written from the attachment', () => {
  const suite = serverPerSuite();

  async function client(format: Format, extra: string, ...channels: string[]): Promise<RawClient> {
    const c = suite.own(await RawClient.connect(suite.ts.port, KEYS.full, format, extra));
    for (const channel of channels) {
      c.send({ action: Action.ATTACH, channel });
      await c.next(Action.ATTACHED);
    }
    return c;
  }

  for (const format of ['json', 'msgpack'] as const) {
    it(`a tick that queued (ATTACHED, ACK, MESSAGE) leaves the next fan-out written at once again (${format})`, async () => {
      const channel = `again-${format}`;
      const [self, publisher] = [await client(format, ''), await client(format, '')];
      sendTogether(self, [{ action: Action.ATTACH, channel }, publishOn(channel, 'mine', 0)]);
      await self.next(Action.MESSAGE, 5000, (pm) => carries(pm, 'mine'));
      assert.deepEqual(
        self.log.slice(-3).map((pm) => pm.action),
        [Action.ATTACHED, Action.ACK, Action.MESSAGE],
        'what was queued went first',
      );
      const rec = suite.own(recordDirect());
      publisher.send(publishOn(channel, 'later', 0));
      await self.next(Action.MESSAGE, 5000, (pm) => carries(pm, 'later'));
      await publisher.next(Action.ACK);
      const later = rec.calls.filter((c) => c.frames.some((pm) => carries(pm, 'later')));
      assert.equal(later.length, 1, 'one write');
      assert.ok(later[0]!.inFanOut, 'written by the fan-out itself, not by a flush');
      assert.equal(rec.viaSession(), 0, 'from the attachment: no queue left marked on the transport');
    });

    it(`echo=false: the publisher's own message is left out of the fan-out, the others' come (${format})`, async () => {
      const channel = `echo-${format}`;
      const quiet = await client(format, '&echo=false', channel);
      const loud = await client(format, '', channel);
      quiet.send(publishOn(channel, 'from-quiet', 0));
      await quiet.next(Action.ACK);
      await loud.next(Action.MESSAGE, 5000, (pm) => carries(pm, 'from-quiet'));
      loud.send(publishOn(channel, 'from-loud', 0));
      await quiet.next(Action.MESSAGE, 5000, (pm) => carries(pm, 'from-loud'));
      await loud.next(Action.MESSAGE, 5000, (pm) => carries(pm, 'from-loud'));
      assert.equal(quiet.log.filter((pm) => carries(pm, 'from-quiet')).length, 0, 'no echo');
    });

    it(`resumed on a new WebSocket: the fan-out goes to the new transport, nothing to the old (${format})`, async () => {
      const channel = `resume-${format}`;
      const first = await client(format, '', channel);
      const connected = first.log.find((pm) => pm.action === Action.CONNECTED)!;
      const key = connected.connectionDetails!.connectionKey!;
      await rest(suite.ts, format).channels.get(channel).publish('n', 'before');
      const before = await first.next(Action.MESSAGE, 5000, (pm) => carries(pm, 'before'));
      first.drop();
      await eventually(
        () => suite.ts.server.inspect.connection(connected.connectionId!)?.transport === null,
        5000,
        'the server saw the drop',
      );
      const second = await client(format, `&resume=${encodeURIComponent(key)}`);
      assert.equal(second.log.find((pm) => pm.action === Action.CONNECTED)?.connectionId, connected.connectionId);
      second.send({ action: Action.ATTACH, channel, channelSerial: before.channelSerial });
      await second.next(Action.ATTACHED);
      await rest(suite.ts, format).channels.get(channel).publish('n', 'after');
      await second.next(Action.MESSAGE, 5000, (pm) => carries(pm, 'after'));
      assert.equal(first.log.filter((pm) => carries(pm, 'after')).length, 0);
    });
  }

  it('comet stream: frames queued in the tick go before the fan-out on the stream', async () => {
    const comet = await RawCometClient.connect(suite.ts.port);
    try {
      await comet.send([{ action: Action.ATTACH, channel: 'comet-q' }, publishOn('comet-q', 'c-mine', 0)]);
      await comet.next(Action.MESSAGE, 5000, (pm) => carries(pm, 'c-mine'));
      const actions = comet.log.filter((pm) => pm.action !== Action.HEARTBEAT).map((pm) => pm.action);
      assert.deepEqual(actions.slice(-3), [Action.ATTACHED, Action.ACK, Action.MESSAGE]);
      await rest(suite.ts, 'json').channels.get('comet-q').publish('n', 'c-later');
      await comet.next(Action.MESSAGE, 5000, (pm) => carries(pm, 'c-later'));
    } finally {
      comet.drop();
    }
  });
});

describe('a slow consumer dropped mid-fan-out', () => {
  for (const format of ['json', 'msgpack'] as const) {
    it(`the others get every message, in order and once (${format})`, { timeout: 60_000 }, async () => {
      const ts = await startServer({ maxOutboundBuffer: 65_536 });
      const channel = 'slow-mid';
      const open = async (): Promise<RawClient> => {
        const c = await RawClient.connect(ts.port, KEYS.full, format);
        c.send({ action: Action.ATTACH, channel });
        await c.next(Action.ATTACHED);
        return c;
      };
      const [early, slow, late] = [await open(), await open(), await open()];
      try {
        tcpSocketOf(slow).pause();
        const publisher = rest(ts, format);
        const data = 'x'.repeat(60_000);
        let sent = 0;
        while (sent < 2000 && ts.server.metrics.snapshot().slowConsumerDisconnects.web_socket === 0)
          await publisher.channels.get(channel).publish('n', `${sent++}:${data}`);
        assert.equal(ts.server.metrics.snapshot().slowConsumerDisconnects.web_socket, 1);
        await publisher.channels.get(channel).publish('n', 'after-drop');
        for (const c of [early, late]) {
          await c.next(Action.MESSAGE, 10_000, (pm) => carries(pm, 'after-drop'));
          const got = c.log.filter((pm) => pm.action === Action.MESSAGE).map((pm) => String(pm.messages?.[0]?.data));
          assert.equal(got.length, sent + 1, 'every message, once');
          assert.deepEqual(
            got.slice(0, sent).map((d) => Number(d.slice(0, d.indexOf(':')))),
            Array.from({ length: sent }, (_, i) => i),
          );
        }
        const metrics = ts.server.metrics.snapshot();
        assert.equal(metrics.disconnects.transport_lost, 1);
      } finally {
        for (const c of [early, slow, late]) c.drop();
        await ts.close();
      }
    });
  }
});
