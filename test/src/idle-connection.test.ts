/**
 * An idle WebSocket connection as the server keeps it (issue 19, bench S3), end to end:
 * - the peer is heard from by the bytes its socket read since the heartbeat visit before (no pong
 *   listener, no clock read per frame): a peer that sends something each period stays, a silent
 *   one that does not even answer pings is dropped after maxIdleInterval (fake clock);
 * - a connection's attachments and a channel's subscribers go from one to several and back (one is
 *   kept without a Map or Set): every attachment still gets what it should, and a channel is
 *   released when its last subscriber leaves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { Action, type ProtocolMessage } from '@encke/protocol';
import { FakeClock, slicesFor } from '@encke/server/internal';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

const MAX_IDLE_INTERVAL = 15_000;
/** The node's heartbeat interval for that maxIdleInterval (a third of it). */
const HEARTBEAT_INTERVAL = MAX_IDLE_INTERVAL / 3;
/** Periods advanced: past maxIdleInterval + one interval (when a silent peer is dropped), and one more. */
const PERIODS = 5;

describe('idle WebSocket peer: heard from by what its socket read (fake clock)', () => {
  let ts: TestServer;
  let clock: FakeClock;
  before(async () => {
    clock = new FakeClock(Date.now());
    ts = await startServer({ clock, maxIdleInterval: MAX_IDLE_INTERVAL });
  });
  after(() => ts.close());

  /** Advances one heartbeat period, slice by slice, as the node's timer would fire. */
  function advancePeriod(): void {
    const slices = slicesFor(HEARTBEAT_INTERVAL);
    for (let s = 0; s < slices; s++) clock.advance(HEARTBEAT_INTERVAL / slices);
  }

  it('drops a peer that sends nothing and answers no ping', async () => {
    const query = `key=${encodeURIComponent(KEYS.full)}&format=json&heartbeats=false&v=6`;
    const ws = new WebSocket(`ws://127.0.0.1:${ts.port}/?${query}`, { autoPong: false });
    const closed = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the silent peer was not dropped')), 5000);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    let pings = 0;
    ws.on('ping', () => pings++);
    await new Promise<void>((resolve, reject) => {
      ws.once('message', () => resolve());
      ws.once('error', reject);
    });
    for (let p = 0; p < PERIODS; p++) advancePeriod();
    await closed;
    assert.ok(pings >= 1, 'pinged before it was dropped');
  });

  it('keeps a peer that sends something each period, past maxIdleInterval', async () => {
    const client = await RawClient.open(
      ts.port,
      `key=${encodeURIComponent(KEYS.full)}&format=json&heartbeats=false&v=6`,
    );
    const connected = await client.next(Action.CONNECTED);
    for (let p = 0; p < PERIODS; p++) {
      // A round trip: the server has read it before the period's visits.
      client.send({ action: Action.HEARTBEAT, id: `p${p}` });
      await client.next(Action.HEARTBEAT, 5000, (pm) => pm.id === `p${p}`);
      advancePeriod();
    }
    client.send({ action: Action.HEARTBEAT, id: 'still' });
    await client.next(Action.HEARTBEAT, 5000, (pm) => pm.id === 'still');
    assert.equal(ts.server.inspect.connection(connected.connectionId!)?.state, 'connected');
    client.close();
  });
});

describe('attachments and subscribers from one to several and back', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer();
  });
  after(() => ts.close());

  async function attach(c: RawClient, channel: string): Promise<void> {
    c.send({ action: Action.ATTACH, channel });
    await c.next(Action.ATTACHED, 5000, (pm) => pm.channel === channel);
  }
  async function detach(c: RawClient, channel: string): Promise<void> {
    c.send({ action: Action.DETACH, channel });
    await c.next(Action.DETACHED, 5000, (pm) => pm.channel === channel);
  }
  let serial = 0;
  async function publish(c: RawClient, channel: string, data: string): Promise<void> {
    const msgSerial = serial++;
    c.send({ action: Action.MESSAGE, channel, msgSerial, messages: [{ data }] });
    await c.next(Action.ACK, 5000, (pm) => pm.msgSerial === msgSerial);
  }
  const received = (c: RawClient, channel: string): unknown[] =>
    c.log
      .filter((pm: ProtocolMessage) => pm.action === Action.MESSAGE && pm.channel === channel)
      .flatMap((pm) => (pm.messages ?? []).map((m) => m.data));

  it('delivers on every attachment through 1 → 3 → 1 → 0 → 1, and releases each channel with its last subscriber', async () => {
    const a = await RawClient.connect(ts.port, KEYS.full);
    const b = await RawClient.connect(ts.port, KEYS.full);
    const pub = await RawClient.connect(ts.port, KEYS.full);
    const channels = ts.server.inspect.channels;
    await attach(a, 'x');
    await attach(a, 'y');
    await attach(a, 'z');
    await attach(b, 'x'); // x: two subscribers
    assert.equal(ts.server.inspect.channels, channels + 3);
    await publish(pub, 'x', 'x1');
    await publish(pub, 'y', 'y1');
    await detach(a, 'y');
    await detach(b, 'x'); // x: one subscriber again
    await publish(pub, 'x', 'x2');
    await publish(pub, 'y', 'y2');
    await publish(pub, 'z', 'z1');
    await a.next(Action.MESSAGE, 5000, (pm) => pm.channel === 'z');
    assert.equal(ts.server.inspect.channels, channels + 2, 'y released');
    await detach(a, 'x');
    await detach(a, 'z');
    assert.equal(ts.server.inspect.channels, channels, 'every channel released');
    await attach(a, 'x');
    await publish(pub, 'x', 'x3');
    await a.next(Action.MESSAGE, 5000, (pm) => pm.channel === 'x' && pm.messages?.[0]?.data === 'x3');
    assert.deepEqual(received(a, 'x'), ['x1', 'x2', 'x3']);
    assert.deepEqual(received(a, 'y'), ['y1']);
    assert.deepEqual(received(a, 'z'), ['z1']);
    assert.deepEqual(received(b, 'x'), ['x1']);
    for (const c of [a, b, pub]) c.close();
  });
});
