/**
 * What browsers rely on from the REST API: answers wrapped in the envelope asked for (with the Link
 * inside) and credentialed CORS on REST routes and their preflights. The REST API itself, through
 * the official SDK, is in rest.test.ts and rest-stats.test.ts.
 */
import assert from 'node:assert/strict';
import { isArrayValue } from '@encke/protocol';
import { after, before, describe, it } from 'node:test';
import { rest } from './helpers/ably.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';
import { responseObject, stringField, objectField } from './helpers/json.js';
import { objectOf } from './helpers/field.js';

describe('rest: what browsers rely on', () => {
  let ts: TestServer;
  const auth = { authorization: `Basic ${Buffer.from(KEYS.full).toString('base64')}` };
  before(async () => {
    ts = await startServer();
    const client = rest(ts, 'json');
    for (const n of ['a', 'b', 'c']) await client.channels.get('browser').publish(n, 'x');
  });
  after(async () => {
    await ts.close();
  });

  it('wraps answers in the envelope asked for, with the Link inside', async () => {
    const res = await fetch(`http://127.0.0.1:${ts.port}/channels/browser/messages?limit=2&envelope=json`, {
      headers: auth,
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('link'), null);
    const body = await responseObject(res);
    assert.equal(body.statusCode, 200);
    const response = body.response;
    assert.ok(isArrayValue(response), 'the envelope has a response array');
    assert.deepEqual(
      response.map((m) => stringField(objectOf(m), 'name')),
      ['c', 'b'],
    );
    const link = stringField(objectField(body, 'headers'), 'link');
    assert.match(link, /^<\.\/messages\?[^>]*>; rel="first", <\.\/messages\?[^>]*cursor=[^>]*>; rel="next"$/);
    assert.doesNotMatch(link, /envelope|,[^ ]/, 'no envelope param, no unencoded comma');
  });

  it('answers credentialed CORS on REST routes and their preflights', async () => {
    const origin = 'https://app.example';
    const preflight = await fetch(`http://127.0.0.1:${ts.port}/channels/browser/messages`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-ably-version',
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), origin);
    assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
    const res = await fetch(`http://127.0.0.1:${ts.port}/channels/browser/messages?limit=1`, {
      headers: { ...auth, origin },
    });
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
    assert.match(res.headers.get('access-control-expose-headers') ?? '', /Link/);
    const denied = await fetch(`http://127.0.0.1:${ts.port}/stats`, { headers: { origin } });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('access-control-allow-origin'), origin);
    assert.match(denied.headers.get('access-control-expose-headers') ?? '', /X-Ably-ErrorCode/);
  });
});
