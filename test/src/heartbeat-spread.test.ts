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
import { RawCometClient } from './helpers/raw-comet.js';
import type { Inbox } from './helpers/inbox.js';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';
import { eventually } from './helpers/ably.js';

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
      const client = await RawClient.open(
        ts.port,
        `key=${encodeURIComponent(KEYS.full)}&format=json&heartbeats=false&v=6`,
      );
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
    assert.equal(
      pings.reduce((a, b) => a + b, 0),
      perSlice,
      `one slice of ${perSlice} pinged, not all ${CONNECTIONS}`,
    );
    // The round trips made every connection heard from now: nothing more is due this period.
    clock.advance(HEARTBEAT_INTERVAL - HEARTBEAT_INTERVAL / slices);
    await roundTrips('rest');
    assert.equal(
      pings.reduce((a, b) => a + b, 0),
      perSlice,
    );
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

/** A connection under test: its inbox, a client HEARTBEAT with `id` (answered after what the server sent before), and its close. */
interface Probe {
  inbox: Inbox;
  heartbeat(id: string): void;
  close(): Promise<void>;
}

describe('HEARTBEAT to an idle connection that asked for them, once a heartbeatInterval (fake clock)', () => {
  const transports: { name: string; open(port: number): Promise<Probe> }[] = [
    {
      name: 'WebSocket',
      open: async (port) => {
        const c = await RawClient.connect(port, KEYS.full);
        return {
          inbox: c,
          heartbeat: (id) => c.send({ action: Action.HEARTBEAT, id }),
          close: async () => {
            c.close();
            await c.waitClosed(2000);
          },
        };
      },
    },
    {
      name: 'comet streaming',
      open: async (port) => {
        const c = await RawCometClient.connect(port);
        return { inbox: c, heartbeat: (id) => void c.send([{ action: Action.HEARTBEAT, id }]), close: () => c.close() };
      },
    },
  ];
  for (const { name, open } of transports) {
    it(`${name}: one HEARTBEAT every period it was not written to`, async () => {
      const clock = new FakeClock(Date.now());
      // The stream must outlive the idle periods (it ends in the second half of this at the earliest).
      const ts = await startServer({ clock, maxIdleInterval: MAX_IDLE_INTERVAL, maxCometStreamDuration: 60_000 });
      const client = await open(ts.port);
      try {
        const slices = slicesFor(HEARTBEAT_INTERVAL);
        const periods = 4;
        for (let s = 0; s < periods * slices; s++) clock.advance(HEARTBEAT_INTERVAL / slices);
        client.heartbeat('probe');
        await client.inbox.next(Action.HEARTBEAT, 5000, (pm) => pm.id === 'probe');
        const beats = client.inbox.log.filter((pm) => pm.action === Action.HEARTBEAT && pm.id === undefined).length;
        // CONNECTED was written in the first period; every later one gets its HEARTBEAT (the
        // visit that finds a period without writes sends one): 3, or 4 counting the first.
        assert.ok(beats >= periods - 1 && beats <= periods, `${beats} HEARTBEATs in ${periods} idle periods`);
      } finally {
        await client.close();
        await ts.close();
      }
    });
  }
});

describe('comet streams opened together end spread over the second half of maxCometStreamDuration (fake clock)', () => {
  const STREAMS = 30;
  const MAX_STREAM = 30_000;

  it('none ends in the first half, some but not all by three quarters, all by the end', async () => {
    const clock = new FakeClock(Date.now());
    const ts = await startServer({ clock, maxIdleInterval: MAX_IDLE_INTERVAL, maxCometStreamDuration: MAX_STREAM });
    const streams: RawCometClient[] = [];
    try {
      for (let i = 0; i < STREAMS; i++) streams.push(await RawCometClient.connect(ts.port));
      const step = HEARTBEAT_INTERVAL / slicesFor(HEARTBEAT_INTERVAL);
      const advanceTo = (ms: number): void => {
        for (let t = 0; t + step <= ms; t += step) clock.advance(step);
      };
      const ended = (): number => streams.filter((s) => s.recvCount > 1).length;
      // Every stream is visited once a heartbeat interval: one ends at the first visit after its time.
      advanceTo(MAX_STREAM / 2 - step);
      assert.equal(ended(), 0, 'no stream ends before half of maxCometStreamDuration');
      // By three quarters, about a third has ended (a lifetime in [15, 22.5] s and the visit after it).
      advanceTo(MAX_STREAM / 4 + step);
      await eventually(() => ended() > 0, 5000, 'some streams ended');
      // The clock stands still: the others cannot end meanwhile.
      assert.ok(ended() < STREAMS, `${ended()} of ${STREAMS} ended by three quarters`);
      advanceTo(MAX_STREAM / 4 + HEARTBEAT_INTERVAL);
      await eventually(() => ended() === STREAMS, 5000, 'every stream ended by maxCometStreamDuration');
    } finally {
      for (const s of streams) await s.close();
      await ts.close();
    }
  });
});
