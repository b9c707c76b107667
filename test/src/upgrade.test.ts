/**
 * ably-js 1.x's transport upgrade (protocol v2, session/upgrade.ts), driven by raw clients: a
 * WebSocket (or a second comet transport) joins a comet connection with `upgrade=<key>`, gets its
 * own CONNECTED, carries nothing until ACTIVATE, then becomes the connection's transport; the old
 * one ends, channels resume from their channelSerial, publishes are not repeated.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Action, Err } from '@encke/protocol';
import { eventually, rest } from './helpers/ably.js';
import { RawCometClient } from './helpers/raw-comet.js';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

describe('transport upgrade (ably-js 1.x, upgrade= and ACTIVATE)', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer();
  });
  after(() => ts.close());

  const upgradeWs = (key: string, extra = ''): Promise<RawClient> =>
    RawClient.open(
      ts.port,
      `key=${encodeURIComponent(KEYS.full)}&format=json&heartbeats=true&v=2&upgrade=${encodeURIComponent(key)}${extra}`,
    );

  it('a WebSocket joins the comet connection, takes over on ACTIVATE, and channels resume', async () => {
    const comet = await RawCometClient.connect(ts.port, { query: '&v=2' });
    comet.send([{ action: Action.ATTACH, channel: 'up' }]);
    const attached = await comet.next(Action.ATTACHED);
    await rest(ts, 'json').channels.get('up').publish('before', 'x');
    const before = await comet.next(Action.MESSAGE);

    const ws = await upgradeWs(comet.connectionKey);
    const connected = await ws.next(Action.CONNECTED);
    assert.equal(connected.connectionId, comet.connectionId, 'the same connection');
    assert.notEqual(connected.connectionDetails!.connectionKey, comet.connectionKey, 'with a key of its own');
    assert.equal(connected.error, undefined);

    // Until ACTIVATE the comet transport still carries the connection; the WebSocket nothing.
    await rest(ts, 'json').channels.get('up').publish('during', 'y');
    assert.equal((await comet.next(Action.MESSAGE)).messages?.[0]?.name, 'during');
    assert.equal(ws.received.length, 0);
    assert.equal(ts.server.inspect.connection(comet.connectionId)?.transport, 'comet');

    ws.send({ action: Action.ACTIVATE });
    await eventually(
      () => ts.server.inspect.connection(comet.connectionId)?.transport === 'web_socket',
      2000,
      'the WebSocket active',
    );
    await comet.waitClosed(2000);

    // The client re-attaches from the last channelSerial it saw: nothing twice, nothing lost.
    await rest(ts, 'json').channels.get('up').publish('after', 'z');
    ws.send({ action: Action.ATTACH, channel: 'up', channelSerial: before.channelSerial });
    const reattached = await ws.next(Action.ATTACHED);
    assert.ok(((reattached.flags ?? 0) & 4) !== 0 || reattached.channelSerial === before.channelSerial, 'resumed');
    const names: string[] = [];
    while (names.length < 2) for (const m of (await ws.next(Action.MESSAGE)).messages ?? []) names.push(m.name!);
    assert.deepEqual(names, ['during', 'after']);
    assert.ok(attached.channelSerial);
    ws.close();
  });

  it('publishes already made are not repeated when the client re-sends them on the new transport', async () => {
    const comet = await RawCometClient.connect(ts.port, { query: '&v=2' });
    comet.send([{ action: Action.MESSAGE, channel: 'up-once', msgSerial: 0, messages: [{ name: 'one' }] }]);
    assert.equal((await comet.next(Action.ACK)).msgSerial, 0);
    const ws = await upgradeWs(comet.connectionKey);
    await ws.next(Action.CONNECTED);
    ws.send({ action: Action.ACTIVATE });
    ws.send({ action: Action.MESSAGE, channel: 'up-once', msgSerial: 0, messages: [{ name: 'one' }] });
    assert.equal((await ws.next(Action.ACK)).msgSerial, 0);
    const history = await rest(ts, 'json').channels.get('up-once').history();
    assert.deepEqual(
      history.items.map((m) => m.name),
      ['one'],
    );
    ws.close();
  });

  it('of two candidates, the one that sends ACTIVATE wins and the other is ended', async () => {
    const comet = await RawCometClient.connect(ts.port, { stream: false, query: '&v=2' });
    const ws = await upgradeWs(comet.connectionKey);
    await ws.next(Action.CONNECTED);
    const streaming = await RawCometClient.connect(ts.port, {
      query: `&v=2&upgrade=${encodeURIComponent(comet.connectionKey)}`,
    });
    assert.equal(streaming.connectionId, comet.connectionId);
    ws.send({ action: Action.ACTIVATE });
    await eventually(
      () => ts.server.inspect.connection(comet.connectionId)?.transport === 'web_socket',
      2000,
      'the WebSocket active',
    );
    await streaming.waitClosed(2000);
    ws.send({ action: Action.HEARTBEAT, id: 'still-here' });
    assert.equal((await ws.next(Action.HEARTBEAT, 2000, (pm) => pm.id === 'still-here')).id, 'still-here');
    ws.close();
    comet.drop();
  });

  it('a candidate that goes before ACTIVATE changes nothing', async () => {
    const comet = await RawCometClient.connect(ts.port, { query: '&v=2' });
    const ws = await upgradeWs(comet.connectionKey);
    await ws.next(Action.CONNECTED);
    ws.drop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(ts.server.inspect.connection(comet.connectionId)?.state, 'connected');
    assert.equal(ts.server.inspect.connection(comet.connectionId)?.transport, 'comet');
    comet.send([{ action: Action.ATTACH, channel: 'up-stays' }]);
    await comet.next(Action.ATTACHED);
    await comet.close();
  });

  it('ACTIVATE on the transport already active is ignored', async () => {
    const ws = await RawClient.connect(ts.port, KEYS.full, 'json', '&v=2');
    ws.send({ action: Action.ACTIVATE });
    ws.send({ action: Action.HEARTBEAT, id: 'ok' });
    assert.equal((await ws.next(Action.HEARTBEAT, 2000, (pm) => pm.id === 'ok')).id, 'ok');
    assert.ok(!ws.log.some((pm) => pm.action === Action.ERROR));
    ws.close();
  });

  const refused: [string, string, number][] = [
    ['an unknown connection', 'AAAAAAAAAAAA!aaaaaaaaaaaaaaaa0', Err.connectionExpired.code],
    ['a malformed key', 'not-a-key', Err.invalidConnectionKey.code],
  ];
  for (const [what, key, code] of refused) {
    it(`an upgrade of ${what} is abandoned with DISCONNECTED ${code}, no new connection`, async () => {
      const before = ts.server.inspect.connections;
      const ws = await upgradeWs(key);
      const disconnected = await ws.next(Action.DISCONNECTED);
      assert.equal(disconnected.error?.code, code);
      assert.ok(!ws.log.some((pm) => pm.action === Action.CONNECTED));
      assert.ok(ts.server.inspect.connections <= before, 'no connection was opened');
    });
  }

  it('an upgrade with another clientId is refused (80011), the connection untouched', async () => {
    const comet = await RawCometClient.connect(ts.port, { query: '&v=2&clientId=ann' });
    const ws = await upgradeWs(comet.connectionKey, '&clientId=bob');
    const disconnected = await ws.next(Action.DISCONNECTED);
    assert.equal(disconnected.error?.code, Err.incompatibleRecoverAuth.code);
    assert.equal(ts.server.inspect.connection(comet.connectionId)?.transport, 'comet');
    await comet.close();
  });

  it('closing the connection ends a waiting candidate too', async () => {
    const comet = await RawCometClient.connect(ts.port, { query: '&v=2' });
    const ws = await upgradeWs(comet.connectionKey);
    await ws.next(Action.CONNECTED);
    await comet.close();
    await ws.waitClosed(2000);
  });
});
