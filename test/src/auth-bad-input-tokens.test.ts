/**
 * Bad tokens as tables: each malformed or hostile token or message, the ErrorInfo it must produce,
 * and a check that the server still serves other connections afterwards.
 * - tokens presented at connect (`access_token=`);
 * - tokens and messages on a live token connection (in-band AUTH, clientId spoofing).
 * requestToken / revokeTokens over HTTP are in auth-bad-input.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Action, Err, type ErrorDef, type ProtocolMessage } from '@encke/protocol';
import { tokenCodec } from '@encke/server/internal';
import { fetchToken, makeJwt } from './helpers/auth.js';
import { HUGE, keyName, serverStillServes } from './helpers/auth-bad-input.js';
import { eventually, sleep } from './helpers/ably.js';
import { jsonObject } from './helpers/json.js';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

const secretOf = (key: string): string => key.slice(key.indexOf(':') + 1);

interface ConnectCase {
  name: string;
  token: (port: number) => Promise<string> | string;
  query?: string;
  expect: ErrorDef;
}

/** A token whose claims say `claimedKey` but whose signature is by `signingKey`. */
function forged(claimedKey: string, signingKey: string): string {
  const now = Date.now();
  return tokenCodec.encodeToken(
    { keyName: keyName(claimedKey), issued: now, expires: now + 60_000, capability: '{"*":["*"]}', revocable: false },
    secretOf(signingKey),
  );
}

function tamper(token: string): string {
  const [v, claims, sig] = token.split('~') as [string, string, string];
  const decoded = jsonObject(Buffer.from(claims, 'base64url').toString('utf8'));
  decoded.c = '{"*":["*"]}';
  decoded.u = 'admin';
  return `${v}~${Buffer.from(JSON.stringify(decoded)).toString('base64url')}~${sig}`;
}

const CONNECT_CASES: ConnectCase[] = [
  { name: 'garbage', token: () => 'not-a-token', expect: Err.tokenUnrecognised },
  {
    name: 'a tampered encke token',
    token: async (p) => tamper(await fetchToken(p, KEYS.subscribeOnly, { clientId: 'x' })),
    expect: Err.tokenUnrecognised,
  },
  {
    name: "a token signed with another app's key",
    token: () => forged(KEYS.full, KEYS.other),
    expect: Err.tokenUnrecognised,
  },
  {
    name: 'an expired encke token',
    token: async (p) => {
      const t = await fetchToken(p, KEYS.full, { ttl: 1 });
      await sleep(20);
      return t;
    },
    expect: Err.tokenExpired,
  },
  { name: 'an alg:none JWT', token: () => makeJwt(KEYS.full, {}, { header: { alg: 'none' } }), expect: Err.invalidJwt },
  { name: 'an HS384 JWT', token: () => makeJwt(KEYS.full, {}, { header: { alg: 'HS384' } }), expect: Err.invalidJwt },
  {
    name: "a JWT signed with another app's key",
    token: () => makeJwt(KEYS.other, {}, { header: { kid: keyName(KEYS.full) } }),
    expect: Err.invalidJwt,
  },
  {
    name: 'a JWT with an unknown kid',
    token: () => makeJwt(KEYS.full, {}, { header: { kid: 'testapp.nokey' } }),
    expect: Err.invalidJwt,
  },
  {
    name: 'an expired JWT',
    token: () => makeJwt(KEYS.full, {}, { claims: { exp: Math.floor(Date.now() / 1000) - 10 } }),
    expect: Err.tokenExpired,
  },
  {
    name: 'a JWT without exp',
    token: () => makeJwt(KEYS.full, {}, { claims: { exp: undefined } }),
    expect: Err.invalidJwt,
  },
  {
    name: 'a JWT whose capability is not an object',
    token: () => makeJwt(KEYS.full, {}, { claims: { 'x-ably-capability': '["*"]' } }),
    expect: Err.invalidJwt,
  },
  {
    name: 'a JWT whose capability is not a string',
    token: () => makeJwt(KEYS.full, {}, { claims: { 'x-ably-capability': { '*': ['*'] } } }),
    expect: Err.invalidJwt,
  },
  {
    name: 'a JWT with a capability outside its key',
    token: () => makeJwt(KEYS.subscribeOnly, { capability: { x: ['publish'] } }),
    expect: Err.capabilityDenied,
  },
  {
    name: 'a revocable-key JWT older than maxRevocableTokenTtl',
    token: () => makeJwt(KEYS.revocable, { ttl: 10 * 3_600_000 }, { now: Date.now() - 2 * 3_600_000 }),
    expect: Err.tokenExpired,
  },
  {
    name: 'a token for alice with clientId=bob',
    token: () => makeJwt(KEYS.full, { clientId: 'alice' }),
    query: '&clientId=bob',
    expect: Err.incompatibleCredentials,
  },
];

interface LiveCase {
  name: string;
  /** The token the connection starts with. */
  token: () => string;
  send: (c: RawClient, port: number) => Promise<void> | void;
  expect: { nack: ErrorDef } | { fatal: ErrorDef } | { disconnected: ErrorDef };
}

const publishAs = (clientId: string | undefined): ProtocolMessage => ({
  action: Action.MESSAGE,
  channel: 'spoof',
  msgSerial: 0,
  messages: [{ name: 'n', data: 'd', ...(clientId !== undefined ? { clientId } : {}) }],
});

const LIVE_CASES: LiveCase[] = [
  {
    name: 'a publish spoofing another clientId',
    token: () => makeJwt(KEYS.full, { clientId: 'alice' }),
    send: (c) => c.send(publishAs('mallory')),
    expect: { nack: Err.invalidClientId },
  },
  {
    name: 'a publish naming a clientId on an anonymous token',
    token: () => makeJwt(KEYS.full),
    send: (c) => c.send(publishAs('someone')),
    expect: { nack: Err.invalidClientId },
  },
  {
    name: 'a publish with clientId "*"',
    token: () => makeJwt(KEYS.full, { clientId: '*' }),
    send: (c) => c.send(publishAs('*')),
    expect: { nack: Err.invalidClientId },
  },
  {
    name: 'a publish outside the token capability',
    token: () => makeJwt(KEYS.full, { capability: { other: ['publish'] } }),
    send: (c) => c.send(publishAs(undefined)),
    expect: { nack: Err.capabilityDenied },
  },
  {
    name: 'AUTH with a garbage token',
    token: () => makeJwt(KEYS.full),
    send: (c) => c.send({ action: Action.AUTH, auth: { accessToken: 'garbage' } }),
    expect: { disconnected: Err.tokenUnrecognised },
  },
  {
    name: 'AUTH with an expired JWT',
    token: () => makeJwt(KEYS.full),
    send: (c) =>
      c.send({ action: Action.AUTH, auth: { accessToken: makeJwt(KEYS.full, {}, { claims: { exp: 1000 } }) } }),
    expect: { disconnected: Err.tokenExpired },
  },
  {
    name: 'AUTH with a JWT carrying a huge capability',
    token: () => makeJwt(KEYS.full),
    send: (c) =>
      c.send({
        action: Action.AUTH,
        auth: {
          accessToken: makeJwt(
            KEYS.full,
            {},
            { claims: { 'x-ably-capability': JSON.stringify({ [HUGE]: ['publish'] }) } },
          ),
        },
      }),
    expect: { disconnected: Err.invalidJwt },
  },
  {
    name: 'AUTH with a token of another app',
    token: () => makeJwt(KEYS.full),
    send: (c) => c.send({ action: Action.AUTH, auth: { accessToken: makeJwt(KEYS.other) } }),
    expect: { fatal: Err.incompatibleCredentials },
  },
  {
    name: 'AUTH with a token for another clientId',
    token: () => makeJwt(KEYS.full, { clientId: 'alice' }),
    send: (c) => c.send({ action: Action.AUTH, auth: { accessToken: makeJwt(KEYS.full, { clientId: 'bob' }) } }),
    expect: { fatal: Err.incompatibleCredentials },
  },
];

describe('token auth bad input', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer();
  });
  after(async () => {
    await ts.close();
  });

  for (const tc of CONNECT_CASES) {
    it(`connect with ${tc.name} → ERROR ${tc.expect.code}`, async () => {
      const token = await tc.token(ts.port);
      const client = await RawClient.open(
        ts.port,
        `access_token=${encodeURIComponent(token)}&format=json&v=6${tc.query ?? ''}`,
      );
      const err = await client.next(Action.ERROR);
      assert.equal(err.channel, undefined);
      assert.equal(err.error?.code, tc.expect.code, err.error?.message);
      assert.equal(err.error?.statusCode, tc.expect.statusCode);
      await client.waitClosed();
      await eventually(() => ts.server.inspect.connections === 0, 2000, 'no session kept');
      await serverStillServes(ts.port);
    });
  }

  it('resuming a connection of one app with a token of another gets a new connection (80008)', async () => {
    const mine = await RawClient.open(
      ts.port,
      `access_token=${encodeURIComponent(makeJwt(KEYS.full))}&format=json&v=6`,
    );
    const connected = await mine.next(Action.CONNECTED);
    mine.drop();
    const key = connected.connectionDetails!.connectionKey!;
    const theirs = await RawClient.open(
      ts.port,
      `access_token=${encodeURIComponent(makeJwt(KEYS.other))}&resume=${encodeURIComponent(key)}&format=json&v=6`,
    );
    const reply = await theirs.next(Action.CONNECTED);
    assert.notEqual(reply.connectionId, connected.connectionId);
    assert.equal(reply.error?.code, Err.connectionExpired.code);
    theirs.close();
    ts.server.inspect.discard(connected.connectionId!);
    await eventually(() => ts.server.inspect.connections === 0, 3000, 'no state left behind');
  });

  for (const tc of LIVE_CASES) {
    const what =
      'nack' in tc.expect
        ? `NACK ${tc.expect.nack.code}`
        : 'fatal' in tc.expect
          ? `ERROR ${tc.expect.fatal.code}`
          : `DISCONNECTED ${tc.expect.disconnected.code}`;
    it(`live token connection: ${tc.name} → ${what}`, async () => {
      const client = await RawClient.open(ts.port, `access_token=${encodeURIComponent(tc.token())}&format=json&v=6`);
      await client.next(Action.CONNECTED);
      await tc.send(client, ts.port);
      const expect = tc.expect;
      if ('nack' in expect) {
        const nack = await client.next(Action.NACK);
        assert.equal(nack.error?.code, expect.nack.code, nack.error?.message);
        client.send({ action: Action.HEARTBEAT, id: 'still-there' });
        assert.equal((await client.next(Action.HEARTBEAT)).id, 'still-there');
        client.close();
      } else if ('fatal' in expect) {
        const err = await client.next(Action.ERROR);
        assert.equal(err.error?.code, expect.fatal.code, err.error?.message);
        await client.waitClosed();
      } else {
        const dis = await client.next(Action.DISCONNECTED);
        assert.equal(dis.error?.code, expect.disconnected.code, dis.error?.message);
        await client.waitClosed();
        assert.equal(ts.server.inspect.connections, 1, 'the connection is kept for a resume');
        for (const id of ts.server.inspect.connectionIds()) ts.server.inspect.discard(id);
      }
      await serverStillServes(ts.port);
      await eventually(() => ts.server.inspect.connections === 0, 3000, 'no state left behind');
    });
  }
});
