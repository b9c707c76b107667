/**
 * A comet stream is renewed (ended, and the client opens the next recv) once it is past its
 * lifetime (issue 19). Whatever is published between the end and the next recv waits for that recv,
 * so a stream that is being written to is not cut at the heartbeat visit that finds it expired, but
 * right after its next batch: the renewal falls in the quiet just after a write. On a fake clock,
 * over real HTTP: the visits happen inside `advance`, so right after it the server's state shows
 * whether the visit cut the stream, before the client could have opened the next one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Action, type ProtocolMessage } from '@encke/protocol';
import { FakeClock, slicesFor } from '@encke/server/internal';
import { eventually } from './helpers/ably.js';
import { RenewingStream } from './helpers/renewing-stream.js';
import { serverPerSuite } from './helpers/suite.js';

const MAX_IDLE_INTERVAL = 15_000;
/** The node's heartbeat interval for that maxIdleInterval (a third of it): each connection's visit period. */
const HEARTBEAT_INTERVAL = MAX_IDLE_INTERVAL / 3;
const MAX_STREAM = 20_000;
const STEP = HEARTBEAT_INTERVAL / slicesFor(HEARTBEAT_INTERVAL);

/** A client HEARTBEAT with `id`; resolves once its answer came down a stream (a batch written to it). */
async function ping(client: RenewingStream, id: string): Promise<void> {
  await client.send([{ action: Action.HEARTBEAT, id }]);
  const answer = (pm: ProtocolMessage): boolean => pm.action === Action.HEARTBEAT && pm.id === id;
  await eventually(() => client.carried(answer), 5000, `HEARTBEAT ${id} answered`);
}

describe('comet stream renewal (fake clock)', () => {
  const clock = new FakeClock(Date.now());
  const suite = serverPerSuite({ clock, maxIdleInterval: MAX_IDLE_INTERVAL, maxCometStreamDuration: MAX_STREAM });

  it('a stream written to since its last visit is not cut at the visit that finds it expired, but right after its next batch', async () => {
    const ts = suite.ts;
    const client = new RenewingStream(ts.port);
    await client.open();
    const held = (): boolean => ts.server.inspect.connection(client.connectionId)?.cometRecvHeld === true;
    try {
      const ids: string[] = [];
      // Past every lifetime and the visit after it; a batch written before every visit.
      for (let t = 0, i = 0; t <= MAX_STREAM + HEARTBEAT_INTERVAL; t += STEP, i++) {
        ids.push(`p${i}`);
        await ping(client, `p${i}`);
        // A stream ended by that batch: the client's next recv is held again before the clock moves.
        await eventually(held, 5000, 'the next recv held');
        clock.advance(STEP);
        // Checked before any I/O: a visit that cut the stream would leave no recv held here.
        assert.ok(held(), `the stream was cut at a heartbeat visit (${t + STEP} ms), not after a batch`);
      }
      assert.ok(client.streams.length >= 2, 'the first stream expired and was renewed');
      // Every ended stream ended right after a batch: its last message answers a ping.
      for (const stream of client.streams.slice(0, -1)) {
        const last = stream[stream.length - 1]!;
        assert.equal(last.action, Action.HEARTBEAT);
        assert.ok(last.id !== undefined && ids.includes(last.id), `a stream ended after ${JSON.stringify(last)}`);
      }
      // Nothing lost or reordered across the renewals.
      const answered = client.streams.flat().filter((pm) => pm.action === Action.HEARTBEAT && pm.id !== undefined);
      assert.deepEqual(
        answered.map((pm) => pm.id),
        ids,
      );
    } finally {
      await client.close();
    }
  });
});
