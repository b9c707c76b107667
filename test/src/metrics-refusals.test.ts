/**
 * /metrics for what issue 12 (harden) made countable and the engine's other stores: refusals at each
 * resource bound by the Ably code the client got (`encke_limit_refusals_total{code}`), last-resort
 * faults by kind (`encke_faults_total{kind}`), and the latency and failures of the auth, stats and
 * app stores (`encke_engine_operation_seconds{op}`, `encke_engine_errors_total{op}`). Each is driven
 * on a real server with real clients, then read from the Prometheus text.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as Ably from 'ably';
import { Action, Err, PresenceAction, type ProtocolMessage } from '@encke/protocol';
import { OutboundFrame, Session } from '@encke/server/internal';
import { closeAll, connect, connectionState, eventually, realtime, WS_VARIANTS } from './helpers/ably.js';
import { httpGet } from './helpers/process.js';
import { RawCometClient } from './helpers/raw-comet.js';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

/** `name{labels} value` lines of the exposition text, by series. */
async function scrape(ts: TestServer): Promise<Map<string, number>> {
  const answer = await httpGet(ts.port, '/metrics');
  assert.equal(answer.status, 200);
  const out = new Map<string, number>();
  for (const line of answer.text.split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

const refusals = (code: number): string => `encke_limit_refusals_total{code="${code}"}`;
const basic = (key: string): string => `Basic ${Buffer.from(key).toString('base64')}`;

async function restPublish(ts: TestServer, channel: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${ts.port}/channels/${channel}/messages`, {
    method: 'POST',
    headers: { authorization: basic(KEYS.full), 'content-type': 'application/json' },
    body: '{"data":"x"}',
  });
}

/** Sends PRESENCE enter on `channel` (attached first); resolves to 0 for an ACK, else the NACK's code. */
async function enter(client: RawClient, channel: string, msgSerial: number): Promise<number> {
  client.send({ action: Action.ATTACH, channel });
  await client.next(Action.ATTACHED, 5000, (pm) => pm.channel === channel);
  client.send({ action: Action.PRESENCE, channel, msgSerial, presence: [{ action: PresenceAction.ENTER, data: 'x' }] });
  const answer = (): ProtocolMessage | undefined =>
    client.log.find((pm) => (pm.action === Action.ACK || pm.action === Action.NACK) && pm.msgSerial === msgSerial);
  await eventually(() => answer() !== undefined, 5000, `an answer to msgSerial ${msgSerial}`);
  return answer()!.action === Action.ACK ? 0 : (answer()!.error?.code ?? -1);
}

describe('metrics: refusals at resource limits, by the code the client got', () => {
  it('maxConnections: 50004', async () => {
    const ts = await startServer({ maxConnections: 1 });
    const first = realtime(ts, WS_VARIANTS[0]!);
    const late = realtime(ts, WS_VARIANTS[0]!, { disconnectedRetryTimeout: 60_000 });
    try {
      await connect(first);
      const change = await connectionState(late, 'disconnected');
      assert.equal(change?.reason?.code, Err.overloaded.code);
      const s = await scrape(ts);
      assert.equal(s.get(refusals(Err.overloaded.code)), 1);
      assert.equal(ts.server.faults.limits.maxConnections, 1);
    } finally {
      await closeAll(first, late);
      await ts.close();
    }
  });

  it('maxConnectionsPerApp: 40111', async () => {
    const ts = await startServer({ maxConnectionsPerApp: 1 });
    const first = realtime(ts, WS_VARIANTS[1]!);
    const second = realtime(ts, WS_VARIANTS[1]!);
    try {
      await connect(first);
      await assert.rejects(connectionState(second, 'connected'), /failed/);
      assert.equal((await scrape(ts)).get(refusals(Err.connectionLimit.code)), 1);
    } finally {
      await closeAll(first, second);
      await ts.close();
    }
  });

  it('maxChannels: 40114 (a realtime attach and a REST publish)', async () => {
    const ts = await startServer({ maxChannels: 1 });
    const client = realtime(ts, WS_VARIANTS[0]!);
    try {
      await connect(client);
      await client.channels.get('c1').attach();
      await assert.rejects(
        client.channels.get('c2').attach(),
        (err: Ably.ErrorInfo) => err.code === Err.channelLimit.code,
      );
      assert.equal((await restPublish(ts, 'c3')).status, 403);
      assert.equal((await scrape(ts)).get(refusals(Err.channelLimit.code)), 2);
    } finally {
      await closeAll(client);
      await ts.close();
    }
  });

  it('maxChannelsPerConnection: 90010', async () => {
    const ts = await startServer({ maxChannelsPerConnection: 1 });
    const client = realtime(ts, WS_VARIANTS[0]!);
    try {
      await connect(client);
      await client.channels.get('one').attach();
      await assert.rejects(
        client.channels.get('two').attach(),
        (err: Ably.ErrorInfo) => err.code === Err.tooManyChannels.code,
      );
      assert.equal((await scrape(ts)).get(refusals(Err.tooManyChannels.code)), 1);
      assert.equal(ts.server.faults.limits.maxChannelsPerConnection, 1);
    } finally {
      await closeAll(client);
      await ts.close();
    }
  });

  it('maxInboundQueue: 42910, once for the connection it fails', async () => {
    const ts = await startServer({ maxInboundQueue: 4 });
    const comet = await RawCometClient.connect(ts.port);
    try {
      // One send body holds a DETACH (handled asynchronously: it waits for the channel's presence
      // members to leave) and 20 attaches behind it: the queue takes what it may, the rest overflows
      // it. (An ATTACH alone no longer waits with the memory engine: it completes as it is read.)
      await comet.send([
        { action: Action.DETACH, channel: 'q-first' },
        ...Array.from({ length: 20 }, (_, i) => ({ action: Action.ATTACH, channel: `q${i}` })),
      ]);
      const failed = await comet.next(Action.ERROR, 5000);
      assert.equal(failed.error?.code, Err.rateLimited.code);
      assert.equal((await scrape(ts)).get(refusals(Err.rateLimited.code)), 1);
      assert.equal(ts.server.faults.limits.maxInboundQueue, 1);
    } finally {
      comet.drop();
      await ts.close();
    }
  });

  for (const [option, value] of [
    ['presenceMaxMembers', { presenceMaxMembers: 1 }],
    ['presenceMaxMembersTotal', { presenceMaxMembersTotal: 1 }],
  ] as const) {
    it(`${option}: 91003`, async () => {
      const ts = await startServer(value);
      const a = await RawClient.connect(ts.port, KEYS.full, 'json', '&clientId=a');
      const b = await RawClient.connect(ts.port, KEYS.full, 'msgpack', '&clientId=b');
      try {
        assert.equal(await enter(a, 'room', 0), 0);
        assert.equal(await enter(b, 'room', 0), Err.presenceMemberLimit.code);
        assert.equal((await scrape(ts)).get(refusals(Err.presenceMemberLimit.code)), 1);
        assert.equal(ts.server.faults.limits.presenceMaxMembers, 1);
      } finally {
        a.close();
        b.close();
        await ts.close();
      }
    });
  }
});

describe('metrics: last-resort faults by kind', () => {
  it('an encode fault and a connection fault are counted once each; the other kinds stay 0', async () => {
    const ts = await startServer();
    const msgpack = OutboundFrame.prototype.msgpack;
    const receive = Session.prototype.receive;
    OutboundFrame.prototype.msgpack = function (this: OutboundFrame) {
      if (this.pm.messages?.some((m) => m.data === 'poison')) throw new Error('Too deep objects in depth 101');
      return msgpack.call(this);
    };
    Session.prototype.receive = function (this: Session, pm) {
      if (!(pm instanceof Error) && pm.channel === 'boom') throw new TypeError('a bug');
      receive.call(this, pm);
    };
    const subscriber = await RawClient.connect(ts.port, KEYS.full, 'msgpack');
    const victim = await RawClient.connect(ts.port, KEYS.full, 'json');
    try {
      assert.deepEqual(
        [...(await scrape(ts))].filter(([k]) => k.startsWith('encke_faults_total')),
        ['encode', 'connection', 'channel', 'timer'].map((kind) => [`encke_faults_total{kind="${kind}"}`, 0]),
      );
      subscriber.send({ action: Action.ATTACH, channel: 'f' });
      await subscriber.next(Action.ATTACHED);
      assert.equal((await restPublish(ts, 'f')).status, 201);
      const res = await fetch(`http://127.0.0.1:${ts.port}/channels/f/messages`, {
        method: 'POST',
        headers: { authorization: basic(KEYS.full), 'content-type': 'application/json' },
        body: '{"data":"poison"}',
      });
      assert.equal(res.status, 201);
      await eventually(() => ts.server.faults.counts.encode === 1, 5000, 'the encode fault');
      victim.send({ action: Action.ATTACH, channel: 'boom' });
      await victim.waitClosed();
      const s = await scrape(ts);
      assert.equal(s.get('encke_faults_total{kind="encode"}'), 1);
      assert.equal(s.get('encke_faults_total{kind="connection"}'), 1);
      assert.equal(s.get('encke_faults_total{kind="channel"}'), 0);
      assert.equal(s.get('encke_faults_total{kind="timer"}'), 0);
    } finally {
      OutboundFrame.prototype.msgpack = msgpack;
      Session.prototype.receive = receive;
      subscriber.close();
      victim.close();
      await ts.close();
    }
  });
});

describe('metrics: the auth, stats and app stores', () => {
  it('times their operations by store and method, and counts their failures', async () => {
    const ts = await startServer();
    const rest = new Ably.Rest({ key: KEYS.full, endpoint: '127.0.0.1', port: ts.port, tls: false, logLevel: 0 });
    try {
      await rest.auth.requestToken(); // a signed token request: its nonce is claimed in the auth store
      const stats = (): Promise<Response> =>
        fetch(`http://127.0.0.1:${ts.port}/stats?limit=1`, { headers: { authorization: basic(KEYS.full) } });
      assert.equal((await stats()).status, 200); // read from the stats store
      const unknownApp = await fetch(`http://127.0.0.1:${ts.port}/channels/x/messages`, {
        headers: { authorization: basic('noapp.key:secret-secret-01') },
      });
      assert.equal(unknownApp.status, 401); // not configured: looked up in the app store
      let s = await scrape(ts);
      assert.equal(s.get('encke_engine_operation_seconds_count{op="auth.claimNonce"}'), 1);
      assert.equal(s.get('encke_engine_operation_seconds_count{op="stats.read"}'), 1);
      assert.equal(s.get('encke_engine_operation_seconds_count{op="apps.get"}'), 1);
      assert.equal(s.get('encke_engine_errors_total{op="stats.read"}'), undefined);
      // The stats store fails: the request answers 500 and the failure is counted.
      ts.server.engine.stats.read = () => Promise.reject(new Error('stats store down'));
      assert.equal((await stats()).status, 500);
      s = await scrape(ts);
      assert.equal(s.get('encke_engine_errors_total{op="stats.read"}'), 1);
      assert.equal(s.get('encke_engine_operation_seconds_count{op="stats.read"}'), 2);
    } finally {
      await ts.close();
    }
  });
});
