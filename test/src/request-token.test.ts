/**
 * `POST /keys/:keyName/requestToken` as the SDK uses it (`auth.requestToken`, a signed TokenRequest)
 * and with basic auth plus token params; TokenDetails fields, capability intersection and ttl rules.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Err, parseJson } from '@encke/protocol';
import { DEFAULT_TOKEN_TTL } from '@encke/server';
import { basicAuth, postJson } from './helpers/auth.js';
import { rest, type Format } from './helpers/ably.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

const FORMATS: Format[] = ['json', 'msgpack'];

describe('requestToken', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer();
  });
  after(async () => {
    await ts.close();
  });

  for (const format of FORMATS) {
    it(`${format}: the SDK's auth.requestToken gets TokenDetails with the capability intersection`, async () => {
      const client = rest(ts, format, { key: KEYS.limited });
      const before = Date.now();
      const details = await client.auth.requestToken({
        clientId: 'sdk-user',
        ttl: 120_000,
        capability: { 'allowed:x': ['publish'], 'readonly:*': ['*'] },
      });
      assert.equal((details as typeof details & { keyName?: string }).keyName, 'testapp.limited');
      assert.equal(details.clientId, 'sdk-user');
      assert.ok(details.issued >= before - 1000 && details.issued <= Date.now() + 1000);
      assert.equal(details.expires - details.issued, 120_000);
      assert.deepEqual(parseJson(details.capability), { 'allowed:x': ['publish'], 'readonly:*': ['subscribe'] });
      assert.match(details.token, /^e1~[A-Za-z0-9_-]+~[A-Za-z0-9_-]+$/);
    });
  }

  it('defaults: the key capability and a 60 minute ttl', async () => {
    const details = await rest(ts, 'json', { key: KEYS.subscribeOnly }).auth.requestToken();
    assert.deepEqual(parseJson(details.capability), { '*': ['subscribe'] });
    assert.equal(details.expires - details.issued, DEFAULT_TOKEN_TTL);
    assert.equal(details.clientId, undefined);
  });

  it('caps the ttl of a revocable key to maxRevocableTokenTtl', async () => {
    const details = await rest(ts, 'json', { key: KEYS.revocable }).auth.requestToken({ ttl: 2 * 3_600_000 });
    assert.equal(details.expires - details.issued, 3_600_000);
  });

  it('basic auth with token params issues a token without a mac', async () => {
    const res = await postJson(
      ts.port,
      '/keys/testapp.full/requestToken',
      { clientId: 'server-side', capability: '{"room":["subscribe"]}', ttl: 5000 },
      basicAuth(KEYS.full),
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.body?.clientId, 'server-side');
    assert.equal(res.body?.capability, '{"room":["subscribe"]}');
    assert.equal(res.body!.expires! - res.body!.issued!, 5000);
  });

  it('GET on requestToken is 404 40400, as on Ably', async () => {
    const res = await rest(ts, 'json').request('get', '/keys/ablyjs.test/requestToken', 3, {}, null, {});
    assert.equal(res.statusCode, 404);
    assert.equal(res.errorCode, Err.notFound.code);
  });

  it('the SDK surfaces a refused TokenRequest with its code', async () => {
    const client = rest(ts, 'json', { key: KEYS.subscribeOnly });
    await assert.rejects(
      client.auth.requestToken({ capability: { '*': ['publish'] } }),
      (err: { code: number; statusCode: number }) => err.code === Err.capabilityDenied.code && err.statusCode === 401,
    );
  });
});
