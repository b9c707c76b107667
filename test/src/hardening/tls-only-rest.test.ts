/**
 * Finding 3 of issue 12: a `tlsOnly` app's REST API refuses plain HTTP on every route, with a key
 * (40103), a token or a JWT (40311), for reads and writes alike; over HTTPS the same requests work.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Err, type ErrorDef } from '@encke/protocol';
import { fetchToken, makeJwt } from '../helpers/auth.js';
import { TEST_APPS, startServer, type TestServer } from '../helpers/server.js';
import { makeTestCert, trustAnyCertificate, type TestCert } from '../helpers/tls.js';
import { responseError, responseAs, isTokenFields } from '../helpers/json.js';

const TLS_KEY = 'tlsapp.main:tls-only-secret-01';

interface Route {
  method: string;
  path: string;
  body?: string;
}

const ROUTES: Route[] = [
  { method: 'POST', path: '/channels/c/messages', body: '{"data":"x"}' },
  { method: 'POST', path: '/messages', body: '{"channels":["c"],"messages":{"data":"x"}}' },
  { method: 'GET', path: '/channels/c/messages' },
  { method: 'GET', path: '/channels/c/presence' },
  { method: 'GET', path: '/channels/c/presence/history' },
  { method: 'GET', path: '/channels/c' },
  { method: 'GET', path: '/channels' },
  { method: 'GET', path: '/stats' },
];

type Credential = 'key' | 'token' | 'jwt';
const EXPECT: Record<Credential, ErrorDef> = {
  key: Err.basicAuthOverNonTls,
  token: Err.tlsRequired,
  jwt: Err.tlsRequired,
};

describe('tlsOnly on every REST route (issue 12, finding 3)', () => {
  let plain: TestServer;
  let secure: TestServer;
  let cert: TestCert;
  const auth: Record<Credential, string> = { key: '', token: '', jwt: '' };

  before(async () => {
    trustAnyCertificate();
    cert = makeTestCert();
    const apps = [...TEST_APPS, { id: 'tlsapp', tlsOnly: true, keys: [{ key: TLS_KEY }] }];
    plain = await startServer({ apps });
    secure = await startServer({ apps, tlsCert: cert.cert, tlsKey: cert.key });
    auth.key = `Basic ${Buffer.from(TLS_KEY).toString('base64')}`;
    // The token comes from the TLS server (requestToken itself refuses plain HTTP for this app).
    const res = await fetch(`https://127.0.0.1:${secure.port}/keys/tlsapp.main/requestToken`, {
      method: 'POST',
      headers: { authorization: auth.key, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(res.status, 200);
    auth.token = `Bearer ${Buffer.from((await responseAs(res, isTokenFields, 'TokenDetails')).token).toString('base64')}`;
    auth.jwt = `Bearer ${Buffer.from(makeJwt(TLS_KEY)).toString('base64')}`;
  });
  after(async () => {
    await plain.close();
    await secure.close();
    cert.remove();
  });

  for (const route of ROUTES) {
    for (const credential of ['key', 'token', 'jwt'] as const) {
      const expect = EXPECT[credential];
      it(`${route.method} ${route.path} with a ${credential} over plain HTTP: ${expect.statusCode} ${expect.code}; over HTTPS: 2xx`, async () => {
        const init = {
          method: route.method,
          headers: { authorization: auth[credential], 'content-type': 'application/json' },
          body: route.body,
        };
        const refused = await fetch(`http://127.0.0.1:${plain.port}${route.path}`, init);
        assert.equal(refused.status, expect.statusCode);
        assert.equal((await responseError(refused)).code, expect.code);
        const served = await fetch(`https://127.0.0.1:${secure.port}${route.path}`, init);
        assert.ok(served.status >= 200 && served.status < 300, `${served.status} ${await served.text()}`);
      });
    }
  }

  it('a plain request of a tlsOnly app is refused before its body is read', async () => {
    const res = await fetch(`http://127.0.0.1:${plain.port}/channels/c/messages`, {
      method: 'POST',
      headers: { authorization: auth.key, 'content-type': 'application/json' },
      body: '{"data":',
    });
    assert.equal(res.status, 401);
    assert.equal((await responseError(res)).code, Err.basicAuthOverNonTls.code);
  });

  it('other apps are unaffected over plain HTTP', async () => {
    assert.notEqual(await fetchToken(plain.port, TEST_APPS[0]!.keys[0]!.key!), '');
  });
});
