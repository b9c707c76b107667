/**
 * Bad credentials over HTTP as a table: each malformed or hostile requestToken / revokeTokens
 * request, the ErrorInfo it must produce, and a check that the server still serves other
 * connections afterwards. Tokens presented at connect and on a live token connection are in
 * auth-bad-input-tokens.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Err, type ErrorDef } from '@encke/protocol';
import { basicAuth, postJson, signTokenRequest, type RestReply } from './helpers/auth.js';
import { HUGE, keyName, serverStillServes } from './helpers/auth-bad-input.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

interface HttpCase {
  name: string;
  send: (port: number) => Promise<{ status: number; body: RestReply | undefined }>;
  expect: ErrorDef;
}

const requestToken = (port: number, key: string, body: unknown, headers: Record<string, string> = {}) =>
  postJson(port, `/keys/${keyName(key)}/requestToken`, body, headers);
const revokeTokens = (port: number, key: string, body: unknown, headers: Record<string, string> = basicAuth(key)) =>
  postJson(port, `/keys/${keyName(key)}/revokeTokens`, body, headers);

const HTTP_CASES: HttpCase[] = [
  {
    name: 'a wrong mac',
    send: (p) =>
      requestToken(p, KEYS.full, {
        ...signTokenRequest(KEYS.full),
        mac: 'AAAA' + signTokenRequest(KEYS.full).mac.slice(4),
      }),
    expect: Err.invalidCredentials,
  },
  {
    name: 'a mac made with another key',
    send: (p) => requestToken(p, KEYS.full, { ...signTokenRequest(KEYS.limited), keyName: keyName(KEYS.full) }),
    expect: Err.invalidCredentials,
  },
  {
    name: 'a field changed after signing',
    send: (p) => requestToken(p, KEYS.full, { ...signTokenRequest(KEYS.full, { clientId: 'bob' }), clientId: 'admin' }),
    expect: Err.invalidCredentials,
  },
  {
    name: 'an unknown key',
    send: (p) => requestToken(p, 'testapp.nokey:whatever-secret', signTokenRequest('testapp.nokey:whatever-secret')),
    expect: Err.invalidCredentials,
  },
  {
    name: 'a keyName differing from the path',
    send: (p) => postJson(p, `/keys/${keyName(KEYS.full)}/requestToken`, signTokenRequest(KEYS.limited)),
    expect: Err.invalidCredentials,
  },
  {
    name: 'a stale timestamp (30 min old)',
    send: (p) => requestToken(p, KEYS.full, signTokenRequest(KEYS.full, { timestamp: Date.now() - 30 * 60_000 })),
    expect: Err.timestampNotCurrent,
  },
  {
    name: 'a timestamp 30 min in the future',
    send: (p) => requestToken(p, KEYS.full, signTokenRequest(KEYS.full, { timestamp: Date.now() + 30 * 60_000 })),
    expect: Err.timestampNotCurrent,
  },
  {
    name: 'a replayed nonce',
    send: async (p) => {
      const tr = signTokenRequest(KEYS.full);
      const first = await requestToken(p, KEYS.full, tr);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      return requestToken(p, KEYS.full, tr);
    },
    expect: Err.nonceReplayed,
  },
  {
    name: 'a capability that is a JSON array',
    send: (p) => requestToken(p, KEYS.full, signTokenRequest(KEYS.full, { capability: '["*","publish"]' })),
    expect: Err.badRequest,
  },
  {
    name: 'a capability that is not JSON',
    send: (p) => requestToken(p, KEYS.full, signTokenRequest(KEYS.full, { capability: '{"a":' })),
    expect: Err.badRequest,
  },
  {
    name: 'a capability with an unknown operation',
    send: (p) => requestToken(p, KEYS.full, signTokenRequest(KEYS.full, { capability: '{"channel0":["publish_"]}' })),
    expect: Err.badRequest,
  },
  {
    name: 'a huge capability string',
    send: (p) =>
      requestToken(p, KEYS.full, signTokenRequest(KEYS.full, { capability: JSON.stringify({ [HUGE]: ['publish'] }) })),
    expect: Err.badRequest,
  },
  {
    name: 'a capability outside the key (empty intersection)',
    send: (p) =>
      requestToken(p, KEYS.subscribeOnly, signTokenRequest(KEYS.subscribeOnly, { capability: '{"*":["publish"]}' })),
    expect: Err.capabilityDenied,
  },
  {
    name: 'a ttl past maxTokenTtl',
    send: (p) => requestToken(p, KEYS.full, signTokenRequest(KEYS.full, { ttl: 90_000_000 })),
    expect: Err.invalidParameterValue,
  },
  {
    name: 'a negative ttl',
    send: (p) => requestToken(p, KEYS.full, signTokenRequest(KEYS.full, { ttl: -5 })),
    expect: Err.invalidParameterValue,
  },
  {
    name: 'a short nonce',
    send: (p) => requestToken(p, KEYS.full, signTokenRequest(KEYS.full, { nonce: 'short' })),
    expect: Err.invalidParameterValue,
  },
  {
    name: 'an empty clientId',
    send: (p) => requestToken(p, KEYS.full, signTokenRequest(KEYS.full, { clientId: '' })),
    expect: Err.invalidClientId,
  },
  { name: 'a body that is not JSON', send: (p) => requestToken(p, KEYS.full, '{"keyName":'), expect: Err.badRequest },
  { name: 'a body that is an array', send: (p) => requestToken(p, KEYS.full, '[1,2]'), expect: Err.invalidRequestBody },
  {
    name: 'a body past the size limit',
    send: (p) => requestToken(p, KEYS.full, { pad: 'y'.repeat(100_000) }),
    expect: Err.requestTooLarge,
  },
  {
    name: 'basic auth with another key',
    send: (p) => requestToken(p, KEYS.full, {}, basicAuth(KEYS.limited)),
    expect: Err.incompatibleCredentials,
  },
  {
    name: 'basic auth with a wrong secret',
    send: (p) => requestToken(p, KEYS.full, {}, basicAuth(`${keyName(KEYS.full)}:wrong-secret`)),
    expect: Err.invalidCredentials,
  },
  {
    name: 'token auth instead of basic auth',
    send: (p) =>
      requestToken(p, KEYS.full, {}, { authorization: `Bearer ${Buffer.from('e1~x~y').toString('base64')}` }),
    expect: Err.basicAuthRequired,
  },
  {
    name: 'revokeTokens with token auth',
    send: (p) => revokeTokens(p, KEYS.revocable, { targets: ['clientId:a'] }, { authorization: 'Bearer eA==' }),
    expect: Err.basicAuthRequired,
  },
  {
    name: 'revokeTokens on a key without revocableTokens',
    send: (p) => revokeTokens(p, KEYS.full, { targets: ['clientId:a'] }),
    expect: Err.revocationNotEnabledForKey,
  },
  {
    name: 'revokeTokens with no targets',
    send: (p) => revokeTokens(p, KEYS.revocable, { targets: [] }),
    expect: Err.invalidRequestBody,
  },
  {
    name: 'revokeTokens with issuedBefore in the future',
    send: (p) => revokeTokens(p, KEYS.revocable, { targets: ['clientId:a'], issuedBefore: Date.now() + 60_000 }),
    expect: Err.invalidParameterValue,
  },
  {
    name: 'revokeTokens with too many targets',
    send: (p) => revokeTokens(p, KEYS.revocable, { targets: Array.from({ length: 101 }, (_, i) => `clientId:${i}`) }),
    expect: Err.invalidRequestBody,
  },
  {
    name: 'revokeTokens for another key',
    send: (p) => revokeTokens(p, KEYS.revocable, { targets: ['clientId:a'] }, basicAuth(KEYS.full)),
    expect: Err.incompatibleCredentials,
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

  for (const tc of HTTP_CASES) {
    it(`HTTP: ${tc.name} → ${tc.expect.statusCode} ${tc.expect.code}`, async () => {
      const res = await tc.send(ts.port);
      assert.equal(res.status, tc.expect.statusCode, JSON.stringify(res.body));
      assert.equal(res.body?.error?.code, tc.expect.code, JSON.stringify(res.body));
      assert.equal(typeof res.body?.error?.message, 'string');
      await serverStillServes(ts.port);
    });
  }

  it('HTTP: revokeTokens answers per target: unsupported and malformed targets fail alone', async () => {
    const res = await revokeTokens(ts.port, KEYS.revocable, {
      targets: ['clientId:ok', 'channel:room', 'nonsense', 'clientId:'],
    });
    assert.equal(res.status, 200);
    assert.equal(res.body?.successCount, 1);
    assert.equal(res.body?.failureCount, 3);
    assert.deepEqual(
      res.body?.results?.map((r) => r.error?.code ?? 'ok'),
      ['ok', Err.revocationNotEnabled.code, Err.invalidParameterValue.code, Err.invalidParameterValue.code],
    );
  });
});
