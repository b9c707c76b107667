/**
 * The heartbeat pass is spread over its period (issue 19): with many connections idle towards the
 * server (subscribers of a Node SDK, heartbeats=false, answered with WebSocket pings), one timer
 * firing pings only its slice of them, not all at once; a whole period later every one has been
 * pinged once. On a fake clock, so the firings are exact: pings of a firing are written before
 * `advance` returns, and a round trip on the same socket afterwards proves what was not sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Action } from '@encke/protocol';
import { FakeClock, slicesFor } from '@encke/server/internal';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

const CONNECTIONS = 40;
const MAX_IDLE_INTERVAL = 15_000;
/** The node's heartbeat interval for that maxIdleInterval (a third of it). */
const HEARTBEAT_INTERVAL = MAX_IDLE_INTERVAL / 3;

describe('heartbeat pass spread over its period (fake clock)', () => {
  let ts: TestServer;
  let clock: FakeClock;
  const clients: RawClient[] = [];
  const pings: number[] = [];
  before(async () => {
    clock = new FakeClock(Date.now());
    ts = await startServer({ clock, maxIdleInterval: MAX_IDLE_INTERVAL });
    for (let i = 0; i < CONNECTIONS; i++) {
      const client = await RawClient.open(ts.port, `key=${encodeURIComponent(KEYS.full)}&format=json&heartbeats=false&v=6`);
      await client.next(Action.CONNECTED);
      pings.push(0);
      client.ws.on('ping', () => pings[i]!++);
      clients.push(client);
    }
  });
  after(async () => {
    for (const c of clients) c.close();
    await ts.close();
  });

  /** A HEARTBEAT round trip on every connection: any ping written before it has arrived. */
  async function roundTrips(tag: string): Promise<void> {
    await Promise.all(
      clients.map(async (c, i) => {
        c.send({ action: Action.HEARTBEAT, id: `${tag}-${i}` });
        await c.next(Action.HEARTBEAT, 5000, (pm) => pm.id === `${tag}-${i}`);
      }),
    );
  }

  it('pings one slice of the idle connections per firing, then the next slice, each connection once', async () => {
    const slices = slicesFor(HEARTBEAT_INTERVAL);
    const perSlice = Math.ceil(CONNECTIONS / slices);
    assert.ok(perSlice < CONNECTIONS, 'the test needs more connections than slices');
    // The first round starts when the first period ends: exactly one slice is pinged.
    clock.advance(HEARTBEAT_INTERVAL);
    await roundTrips('first');
    assert.equal(pings.reduce((a, b) => a + b, 0), perSlice, `one slice of ${perSlice} pinged, not all ${CONNECTIONS}`);
    // The round trips made every connection heard from now: nothing more is due this period.
    clock.advance(HEARTBEAT_INTERVAL - HEARTBEAT_INTERVAL / slices);
    await roundTrips('rest');
    assert.equal(pings.reduce((a, b) => a + b, 0), perSlice);
    // Silent again: within the next two rounds every connection is pinged, slice by slice.
    const before = [...pings];
    for (let s = 0; s < 2 * slices; s++) clock.advance(HEARTBEAT_INTERVAL / slices);
    await roundTrips('next');
    const more = pings.map((n, i) => n - before[i]!);
    assert.deepEqual(
      more.map((n) => n >= 1 && n <= 2),
      more.map(() => true),
      `every connection pinged once or twice in two periods: ${more.join(',')}`,
    );
  });
});
