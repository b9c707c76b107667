/**
 * What `ws` makes for every WebSocket and the transports share instead (transports/ws-shared.ts,
 * issue 19, bench S3): the extensions object and the automatic pong's callback. End to end, JSON and
 * msgpack, with the ably SDK and raw WebSocket clients:
 * - every transport holds the one frozen extensions object and the one pong mark, not objects of its
 *   own; the frames before and after CONNECTED still reach the session (one field for both);
 * - a client's pings are all answered with their data, one at a time past `ws`'s limit of 60
 *   pending pongs (so each pong written counts one fewer pending, as `ws`'s own callback does) and
 *   in a burst, and the connection goes on working.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Action, type Format } from '@encke/protocol';
import { Session, WebSocketTransport } from '@encke/server/internal';
import { WS_VARIANTS, closeAll, connect, realtime } from './helpers/ably.js';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';
import { recordSessions } from './helpers/session-spy.js';
import { field } from './helpers/field.js';

/** More than `ws`'s maxPendingAutoPongs (60): a pong that did not count down would end the connection. */
const PINGS = 100;

describe('WebSocket transports share what ws makes per connection', () => {
  let ts: TestServer;
  /** Every session that flushed, by connection id (Session.flush, patched for the test). */
  const sessions = new Map<string, Session>();
  let restore = (): void => {};
  before(async () => {
    restore = recordSessions(sessions);
    ts = await startServer();
  });
  after(async () => {
    restore();
    await ts.close();
  });

  function transportOf(connectionId: string | undefined): WebSocketTransport {
    const t = connectionId === undefined ? undefined : sessions.get(connectionId)?.transport;
    assert.ok(t instanceof WebSocketTransport, 'a WebSocket transport');
    return t;
  }

  for (const variant of WS_VARIANTS) {
    it(`ably SDK (${variant.format}): two connections' transports hold the same extensions and pong mark`, async () => {
      const a = await connect(realtime(ts, variant));
      const b = await connect(realtime(ts, variant));
      try {
        const channel = `shared-${variant.format}`;
        const ca = a.channels.get(channel);
        const got = new Promise<unknown>((resolve) => void ca.subscribe((m) => resolve(field(m, 'data'))));
        await ca.attach();
        await b.channels.get(channel).publish('m', 'hello');
        assert.equal(await got, 'hello');
        const ta = transportOf(a.connection.id);
        const tb = transportOf(b.connection.id);
        assert.equal(ta.format, variant.format);
        assert.notEqual(ta, tb);
        assert.equal(ta._extensions, tb._extensions, 'one extensions object');
        assert.ok(Object.isFrozen(ta._extensions));
        assert.deepEqual(Object.keys(ta._extensions), []);
        assert.equal(typeof ta._autoPongComplete, 'function');
        assert.equal(ta._autoPongComplete, tb._autoPongComplete, 'one pong mark');
        assert.equal(field(ta, 'peer'), sessions.get(a.connection.id!), 'the session takes the frames');
      } finally {
        await closeAll(a, b);
      }
    });
  }

  for (const format of ['json', 'msgpack'] as Format[]) {
    it(`raw WebSocket (${format}): ${PINGS} pings one at a time, then a burst, all answered; the connection goes on`, async () => {
      const client = await RawClient.connect(ts.port, KEYS.full, format);
      const connectionId = client.log[0]?.connectionId;
      // ATTACHED goes out through the session's flush (CONNECTED may be written at the upgrade).
      client.send({ action: Action.ATTACH, channel: `pings-${format}` });
      await client.next(Action.ATTACHED, 5000, (pm) => pm.channel === `pings-${format}`);
      const t = transportOf(connectionId);
      const pongs: string[] = [];
      client.ws.on('pong', (data: Buffer) => pongs.push(data.toString('utf8')));
      /** Resolves once `count` pongs came in all; rejects if the connection closes first. */
      const pongsUpTo = (count: number): Promise<void> =>
        new Promise<void>((resolve, reject) => {
          const done = (err?: Error): void => {
            client.ws.off('pong', onPong);
            client.ws.off('close', onClose);
            if (err) reject(err);
            else resolve();
          };
          const onPong = (): void => {
            if (pongs.length >= count) done();
          };
          const onClose = (): void => done(new Error(`closed after ${pongs.length} pongs`));
          client.ws.on('pong', onPong);
          client.ws.on('close', onClose);
        });
      for (let i = 0; i < PINGS; i++) {
        const pong = pongsUpTo(i + 1);
        client.ws.ping(`p${i}`);
        await pong;
      }
      const burst = pongsUpTo(PINGS + 40);
      for (let i = 0; i < 40; i++) client.ws.ping(`b${i}`);
      await burst;
      assert.deepEqual(pongs, [
        ...Array.from({ length: PINGS }, (_, i) => `p${i}`),
        ...Array.from({ length: 40 }, (_, i) => `b${i}`),
      ]);
      assert.equal(t._pendingAutoPongs, 0, 'every pong written counted down');
      client.send({ action: Action.DETACH, channel: `pings-${format}` });
      await client.next(Action.DETACHED, 5000, (pm) => pm.channel === `pings-${format}`);
      client.send({ action: Action.HEARTBEAT, id: 'after' });
      await client.next(Action.HEARTBEAT, 5000, (pm) => pm.id === 'after');
      assert.equal(client.closeCode, undefined, 'still open');
      assert.equal(ts.server.inspect.connection(connectionId!)?.state, 'connected');
      client.close();
    });
  }
});
