/**
 * The connection and channel state machines of @encke/client on a fake clock with scripted
 * transports: retry timing with backoff and jitter (RTB1), suspension after connectionStateTtl,
 * immediate resume after a loss, the idle timer, stall fallback, close, fatal and token errors,
 * queueing, ACK/NACK, attach timeouts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorInfo, Realtime, type ClientOptions, type ConnectionStateChange } from '@encke/client';
import { Action, Flag } from '@encke/protocol';
import { FakeClock, settle } from '../helpers/fake-clock.js';
import { FakeModule } from '../helpers/fake-transport.js';

const KEY = 'app.key:secret';

function setup(options: ClientOptions = {}): {
  clock: FakeClock;
  ws: FakeModule;
  lp: FakeModule;
  client: Realtime;
  changes: ConnectionStateChange[];
} {
  const clock = new FakeClock();
  const ws = new FakeModule('web_socket');
  const lp = new FakeModule('xhr_polling');
  const client = new Realtime({
    key: KEY,
    endpoint: 'example.test',
    clock,
    transports: ['web_socket'],
    rememberTransport: false,
    transportImplementations: { web_socket: ws, xhr_polling: lp },
    ...options,
  });
  const changes: ConnectionStateChange[] = [];
  client.connection.on((c) => changes.push(c));
  return { clock, ws, lp, client, changes };
}

const lost = (msg = 'network down'): ErrorInfo => new ErrorInfo(msg, 80003, 400);

describe('@encke/client connection state machine (fake clock)', () => {
  it('connects with the auth, format, heartbeat, echo and version params', async () => {
    const { ws, client, changes } = setup({ clientId: 'me', echoMessages: false });
    await settle();
    assert.equal(client.connection.state, 'connecting');
    const params = ws.last.ctx.params;
    assert.deepEqual(
      {
        key: params['key'],
        format: params['format'],
        heartbeats: params['heartbeats'],
        echo: params['echo'],
        v: params['v'],
        clientId: params['clientId'],
      },
      { key: KEY, format: 'json', heartbeats: 'true', echo: 'false', v: '5', clientId: 'me' },
    );
    assert.equal(ws.last.ctx.baseUrl, 'https://example.test:443');
    await ws.last.connected();
    assert.equal(client.connection.state, 'connected');
    assert.deepEqual(
      changes.map((c) => c.current),
      ['connecting', 'connected'],
    );
  });

  it('retries a failing connect after disconnectedRetryTimeout with backoff (1, 4/3, 5/3, 2, 2) and jitter in [0.8, 1]', async () => {
    const { ws, client, clock, changes } = setup({ disconnectedRetryTimeout: 1000 });
    const coefficients = [1, 4 / 3, 5 / 3, 2, 2];
    for (const k of coefficients) {
      await settle();
      await ws.last.lose(lost());
      const change = changes[changes.length - 1];
      assert.equal(change?.current, 'disconnected');
      const retryIn = change?.retryIn ?? -1;
      assert.ok(retryIn >= 1000 * k * 0.8 - 1 && retryIn <= 1000 * k + 1, `retryIn ${retryIn} for coefficient ${k}`);
      assert.equal(clock.nextIn, retryIn);
      await clock.advance(retryIn - 1);
      assert.equal(client.connection.state, 'disconnected');
      await clock.advance(1);
      assert.equal(client.connection.state, 'connecting');
    }
    assert.equal(ws.created.length, coefficients.length + 1);
  });

  it('suspends once connectionStateTtl has passed without a connection, then retries every suspendedRetryTimeout with a clean connect', async () => {
    const { ws, client, clock } = setup({
      disconnectedRetryTimeout: 10_000,
      suspendedRetryTimeout: 30_000,
      connectionStateTtl: 60_000,
    });
    await settle();
    await ws.last.connected('conn-first');
    const key = client.connection.key;
    const lossAt = clock.now();
    await ws.last.lose(lost());
    assert.equal(client.connection.state, 'disconnected');
    await clock.advance(0);
    assert.equal(ws.last.ctx.params['resume'], key);
    const state = (): string => client.connection.state;
    for (let guard = 0; ; guard++) {
      assert.ok(guard < 50, `not suspended after ${guard} rounds`);
      await settle();
      if (state() === 'connecting') await ws.last.lose(lost());
      if (state() === 'suspended') break;
      await clock.advance(clock.nextIn ?? 0);
    }
    // The TTL counts from the loss; the server's connectionStateTtl (120 s in CONNECTED) wins over the option.
    assert.ok(
      clock.now() - lossAt >= 120_000 && clock.now() - lossAt < 120_000 + 2 * 20_000,
      `suspended ${clock.now() - lossAt} ms after the loss`,
    );
    const suspended = client.connection.errorReason;
    assert.equal(suspended?.code, 80003);
    const published = client.channels.get('x').publish('m', 1);
    await assert.rejects(published, (e: ErrorInfo) => e.code === 80002);
    assert.equal(clock.nextIn, 30_000);
    await clock.advance(30_000);
    assert.equal(client.connection.state, 'connecting');
    assert.equal(ws.last.ctx.params['resume'], undefined, 'after suspension the connect is clean');
  });

  it('after a loss while connected, reconnects at once with resume=<key>; a resume re-sends unacknowledged messages with the same msgSerials', async () => {
    const { ws, client, clock } = setup();
    await settle();
    await ws.last.connected('conn-resume');
    const key = client.connection.key;
    const ch = client.channels.get('r');
    const p1 = ch.publish('a', 1);
    const p2 = ch.publish('b', 2);
    await settle();
    assert.deepEqual(
      ws.last.sentOf(Action.MESSAGE).map((pm) => pm.msgSerial),
      [0, 1],
    );
    await ws.last.receive({ action: Action.ACK, msgSerial: 0, count: 1 });
    await p1;
    await ws.last.lose(lost());
    assert.equal(client.connection.state, 'disconnected');
    assert.equal(client.connection.errorReason?.code, 80003);
    await clock.advance(0);
    assert.equal(client.connection.state, 'connecting');
    assert.equal(ws.last.ctx.params['resume'], key);
    await ws.last.connected('conn-resume');
    const resent = ws.last.sentOf(Action.MESSAGE);
    assert.deepEqual(
      resent.map((pm) => [pm.msgSerial, pm.messages?.[0]?.name]),
      [[1, 'b']],
    );
    await ws.last.receive({ action: Action.ACK, msgSerial: 1, count: 1 });
    await p2;
    const p3 = ch.publish('c', 3);
    await settle();
    assert.equal(ws.last.sentOf(Action.MESSAGE).at(-1)?.msgSerial, 2);
    await ws.last.receive({ action: Action.ACK, msgSerial: 2, count: 1 });
    await p3;
  });

  it('a failed resume (new id, error) is reported and renumbers unacknowledged messages from 0, keeping their ids', async () => {
    const { ws, client, clock } = setup();
    await settle();
    await ws.last.connected('conn-old');
    const ch = client.channels.get('r');
    for (const n of ['a', 'b', 'c']) ch.publish(n, 1).catch(() => undefined);
    await settle();
    await ws.last.receive({ action: Action.ACK, msgSerial: 0, count: 1 });
    const ids = ws.last.sentOf(Action.MESSAGE).map((pm) => pm.messages?.[0]?.id);
    await ws.last.lose(lost());
    await clock.advance(0);
    await ws.last.connected('conn-new', {}, { error: { code: 80008, statusCode: 400, message: 'expired' } });
    assert.equal(client.connection.state, 'connected');
    assert.equal(client.connection.errorReason?.code, 80008);
    assert.equal(client.connection.id, 'conn-new');
    const resent = ws.last.sentOf(Action.MESSAGE);
    assert.deepEqual(
      resent.map((pm) => pm.msgSerial),
      [0, 1],
    );
    assert.deepEqual(
      resent.map((pm) => pm.messages?.[0]?.id),
      ids.slice(1),
    );
  });

  it('the idle timer: no traffic for maxIdleInterval + realtimeRequestTimeout drops the transport (80003, 408); a HEARTBEAT resets it', async () => {
    const { ws, client, clock } = setup({ realtimeRequestTimeout: 10_000 });
    await settle();
    await ws.last.connected('conn-idle', { maxIdleInterval: 15_000 });
    await clock.advance(20_000);
    await ws.last.receive({ action: Action.HEARTBEAT });
    await clock.advance(24_999);
    assert.equal(client.connection.state, 'connected');
    const first = ws.last;
    await clock.advance(1);
    assert.ok(first.disconnected, 'the silent transport is cancelled');
    assert.equal(client.connection.errorReason?.code, 80003);
    assert.equal(client.connection.errorReason?.statusCode, 408);
  });

  it('a transport that stays silent past transportStallTimeout is abandoned for the next; the stalled one goes last next time', async () => {
    const { ws, lp, client, clock } = setup({ transports: ['web_socket', 'xhr_polling'], transportStallTimeout: 4000 });
    await settle();
    assert.equal(lp.created.length, 0);
    await clock.advance(4000);
    assert.ok(ws.last.disconnected);
    assert.equal(lp.created.length, 1);
    await lp.last.connected('conn-lp');
    assert.equal(client.connection.transport, 'xhr_polling');
    await lp.last.lose(lost());
    await clock.advance(0);
    assert.equal(lp.created.length, 2, 'the transport that worked is tried first');
    assert.equal(ws.created.length, 1);
  });

  it('a transport that cannot connect falls back to the next at once', async () => {
    const { ws, lp, client } = setup({ transports: ['web_socket', 'xhr_polling'] });
    await settle();
    await ws.last.lose(new ErrorInfo('WebSocket connection failed', 80003, 400));
    await settle();
    await lp.last.connected();
    assert.equal(client.connection.state, 'connected');
    assert.equal(client.connection.transport, 'xhr_polling');
  });

  it('close: CLOSE then closed on CLOSED, or after realtimeRequestTimeout without one', async () => {
    const { ws, client, clock } = setup({ realtimeRequestTimeout: 5000 });
    await settle();
    await ws.last.connected();
    client.close();
    assert.equal(client.connection.state, 'closing');
    assert.ok(ws.last.closeCalled);
    await ws.last.receive({ action: Action.CLOSED });
    assert.equal(client.connection.state, 'closed');

    const second = setup({ realtimeRequestTimeout: 5000 });
    await settle();
    await second.ws.last.connected();
    second.client.close();
    await second.clock.advance(4999);
    assert.equal(second.client.connection.state, 'closing');
    await second.clock.advance(1);
    assert.equal(second.client.connection.state, 'closed');
    assert.ok(second.ws.last.disconnected);
    void clock;
  });

  it('close while connecting or disconnected: closed at once, nothing more is attempted', async () => {
    const { ws, client, clock } = setup();
    await settle();
    client.close();
    assert.equal(client.connection.state, 'closed');
    assert.ok(ws.last.disconnected);
    await clock.advance(600_000);
    assert.equal(ws.created.length, 1);
  });

  it('a fatal ERROR at connect fails; ERROR while connected fails; publishes are rejected with the reason', async () => {
    const { ws, client } = setup();
    await settle();
    await ws.last.receive({
      action: Action.ERROR,
      error: { code: 40101, statusCode: 401, message: 'Invalid credentials' },
    });
    await settle();
    assert.equal(client.connection.state, 'failed');
    assert.equal(client.connection.errorReason?.code, 40101);
    await assert.rejects(client.channels.get('x').publish('m', 1), (e: ErrorInfo) => e.code === 40101);

    const b = setup();
    await settle();
    await b.ws.last.connected();
    const pending = assert.rejects(b.client.channels.get('y').publish('m', 1), (e: ErrorInfo) => e.code === 40000);
    await b.ws.last.receive({ action: Action.ERROR, error: { code: 40000, statusCode: 400, message: 'bad' } });
    assert.equal(b.client.connection.state, 'failed');
    await pending;
  });

  it('a token error at connect: one renewal and one more try; a second token error leaves it disconnected (RTN14b)', async () => {
    let tokens = 0;
    const { ws, client } = setup({ key: undefined, authCallback: async () => `token-${++tokens}` });
    await settle();
    assert.equal(ws.last.ctx.params['access_token'], 'token-1');
    await ws.last.receive({ action: Action.ERROR, error: { code: 40142, statusCode: 401, message: 'expired' } });
    await settle();
    assert.equal(ws.created.length, 2);
    assert.equal(ws.last.ctx.params['access_token'], 'token-2');
    await ws.last.receive({ action: Action.ERROR, error: { code: 40142, statusCode: 401, message: 'expired again' } });
    await settle();
    assert.equal(client.connection.state, 'disconnected');
    assert.equal(client.connection.errorReason?.code, 40142);
  });

  it('a token renewal that fails after close() leaves the client closed: no retry loop keeps the process alive', async () => {
    let calls = 0;
    let failRenewal: (err: Error) => void = () => undefined;
    const { ws, client, clock } = setup({
      key: undefined,
      authCallback: () => {
        calls++;
        if (calls === 1) return Promise.resolve({ token: 'tok-1', expires: clock.now() + 60_000 });
        return new Promise<never>((_resolve, reject) => (failRenewal = reject));
      },
    });
    await settle();
    await ws.last.connected('conn-r', { maxIdleInterval: 0 });
    // Renewal is scheduled by extras.ts, a module loaded on first use: let the import finish.
    for (let i = 0; i < 100 && clock.nextIn === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    await clock.advance(60_000);
    assert.equal(calls, 2, 'the renewal came due and is waiting for its token');
    client.close();
    await ws.last.receive({ action: Action.CLOSED });
    assert.equal(client.connection.state, 'closed');
    failRenewal(new Error('auth server gone'));
    await clock.advance(600_000);
    assert.equal(client.connection.state, 'closed');
    assert.equal(ws.created.length, 1, 'no connection attempt after close()');
    assert.equal(clock.nextIn, undefined, 'no timer left behind');
  });

  it('a server DISCONNECTED while connected: disconnected, then an immediate resume', async () => {
    const { ws, client, clock } = setup();
    await settle();
    await ws.last.connected('conn-d');
    await ws.last.receive({
      action: Action.DISCONNECTED,
      error: { code: 80003, statusCode: 400, message: 'draining' },
    });
    assert.equal(client.connection.state, 'disconnected');
    assert.equal(client.connection.errorReason?.message, 'draining');
    await clock.advance(0);
    assert.equal(client.connection.state, 'connecting');
    assert.ok(ws.last.ctx.params['resume']?.startsWith('conn-d!'));
  });

  it('publishes made while connecting are queued and sent in order once connected; without queueMessages they fail at once', async () => {
    const { ws, client } = setup();
    const ch = client.channels.get('q');
    void ch.publish('one', 1);
    void ch.publish('two', 2);
    await settle();
    assert.equal(ws.last.sentOf(Action.MESSAGE).length, 0);
    await ws.last.connected();
    assert.deepEqual(
      ws.last.sentOf(Action.MESSAGE).map((pm) => [pm.msgSerial, pm.messages?.[0]?.name]),
      [
        [0, 'one'],
        [1, 'two'],
      ],
    );

    const nq = setup({ queueMessages: false });
    await assert.rejects(nq.client.channels.get('q').publish('x', 1), (e: ErrorInfo) => e.code === 80003);
  });

  it('ACK completes a range of publishes; NACK rejects with its error', async () => {
    const { ws, client } = setup();
    await settle();
    await ws.last.connected();
    const ch = client.channels.get('acks');
    const ps = [ch.publish('a', 1), ch.publish('b', 2)];
    const nacked = assert.rejects(ch.publish('c', 3), (e: ErrorInfo) => e.code === 40160 && e.message === 'denied');
    await ws.last.receive({ action: Action.ACK, msgSerial: 0, count: 2 });
    await Promise.all(ps);
    await ws.last.receive({
      action: Action.NACK,
      msgSerial: 2,
      count: 1,
      error: { code: 40160, statusCode: 401, message: 'denied' },
    });
    await nacked;
  });

  it('an attach unanswered for realtimeRequestTimeout suspends the channel (90007) and retries after channelRetryTimeout', async () => {
    const { ws, client, clock } = setup({ realtimeRequestTimeout: 10_000, channelRetryTimeout: 15_000 });
    await settle();
    await ws.last.connected('conn-a', { maxIdleInterval: 600_000 });
    const ch = client.channels.get('slow');
    const attaching = assert.rejects(ch.attach(), (e: ErrorInfo) => e.code === 90007);
    await settle();
    assert.equal(ws.last.sentOf(Action.ATTACH).length, 1);
    await clock.advance(10_000);
    await attaching;
    assert.equal(ch.state, 'suspended');
    await clock.advance(15_000);
    assert.equal(ch.state, 'attaching');
    assert.equal(ws.last.sentOf(Action.ATTACH).length, 2);
    await ws.last.receive({ action: Action.ATTACHED, channel: 'slow', channelSerial: 'e-1', flags: Flag.SUBSCRIBE });
    assert.equal(ch.state, 'attached');
  });

  it('re-attaches with the last channelSerial after a resume; ATTACHED without RESUMED is an update; a server DETACHED re-attaches', async () => {
    const { ws, client, clock } = setup();
    await settle();
    await ws.last.connected('conn-c');
    const ch = client.channels.get('cont');
    const updates: ConnectionStateChange[] = [];
    const attaching = ch.attach();
    await settle();
    await ws.last.receive({ action: Action.ATTACHED, channel: 'cont', channelSerial: 'e-1', flags: Flag.SUBSCRIBE });
    await attaching;
    ch.on('update', (c) => updates.push(c as unknown as ConnectionStateChange));
    await ws.last.receive({
      action: Action.MESSAGE,
      channel: 'cont',
      channelSerial: 'e-7',
      messages: [{ name: 'm', data: 'x' }],
    });
    await ws.last.lose(lost());
    await clock.advance(0);
    await ws.last.connected('conn-c');
    assert.equal(ws.last.sentOf(Action.ATTACH)[0]?.channelSerial, 'e-7');
    await ws.last.receive({
      action: Action.ATTACHED,
      channel: 'cont',
      channelSerial: 'e-7',
      flags: Flag.RESUMED | Flag.SUBSCRIBE,
    });
    assert.equal(updates.length, 0);
    await ws.last.receive({
      action: Action.ATTACHED,
      channel: 'cont',
      channelSerial: 'e-9',
      flags: Flag.SUBSCRIBE,
      error: { code: 90003, statusCode: 400, message: 'lost' },
    });
    assert.equal(updates.length, 1);
    await ws.last.receive({
      action: Action.DETACHED,
      channel: 'cont',
      error: { code: 90000, statusCode: 400, message: 'server detach' },
    });
    assert.equal(ch.state, 'attaching');
    assert.equal(ws.last.sentOf(Action.ATTACH).length, 2);
  });
});
