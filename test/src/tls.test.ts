/**
 * TLS: with a certificate the one port serves HTTPS and WSS (the SDK with `tls: true` connects and
 * requests tokens over it); an app with `tlsOnly` refuses plain connections and requests, 40103 for
 * basic auth and 40311 for tokens, and the server still serves other apps.
 */
import { dataOf } from './helpers/field.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as Ably from 'ably';
import { Action, Err } from '@encke/protocol';
import { makeJwt, postJson, signTokenRequest, TokenBackend } from './helpers/auth.js';
import { Collector, closeAll, connect, WS_VARIANTS } from './helpers/ably.js';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS, startServer, TEST_APPS, type TestServer } from './helpers/server.js';
import { makeTestCert, trustAnyCertificate, type TestCert } from './helpers/tls.js';

const SECURE_KEY = 'secure.main:secure-secret-0001';
const APPS = [...TEST_APPS, { id: 'secure', tlsOnly: true, keys: [{ key: SECURE_KEY }] }];

function failedWith(client: Ably.Realtime): Promise<number | undefined> {
  return new Promise((resolve) => client.connection.once('failed', (change) => resolve(change.reason?.code)));
}

describe('TLS', () => {
  let cert: TestCert;
  let secure: TestServer;
  let plain: TestServer;
  const backends: TokenBackend[] = [];
  before(async () => {
    trustAnyCertificate();
    cert = makeTestCert();
    secure = await startServer({ apps: APPS, tlsCert: cert.cert, tlsKey: cert.key });
    plain = await startServer({ apps: APPS });
  });
  after(async () => {
    await Promise.all(backends.map((b) => b.close()));
    await secure.close();
    await plain.close();
    cert.remove();
  });

  const tlsClient = (format: 'json' | 'msgpack', options: Ably.ClientOptions): Ably.Realtime =>
    new Ably.Realtime({
      endpoint: '127.0.0.1',
      tls: true,
      tlsPort: secure.port,
      useBinaryProtocol: format === 'msgpack',
      transports: ['web_socket'],
      disableConnectivityCheck: true,
      logLevel: 0,
      ...options,
    });

  for (const variant of WS_VARIANTS) {
    it(`${variant.name}: the SDK connects over WSS with a key, and with tokens fetched over HTTPS`, async () => {
      const b = new TokenBackend(SECURE_KEY, { clientId: 'tls-user' }, 'tokenRequest');
      backends.push(b);
      const withKey = await connect(tlsClient(variant.format, { key: SECURE_KEY }));
      const withToken = await connect(tlsClient(variant.format, { authCallback: b.callback }));
      try {
        assert.equal(withToken.auth.clientId, 'tls-user');
        const got = new Collector();
        await withToken.channels.get('over-tls').subscribe(got.listener);
        await withKey.channels.get('over-tls').publish('hello', 'secure world');
        const [msg] = await got.waitFor(1);
        assert.equal(dataOf(msg!), 'secure world');
      } finally {
        await closeAll(withKey, withToken);
      }
    });
  }

  it('a tlsOnly app refuses a plain connection with a key (40103)', async () => {
    const client = new Ably.Realtime({
      key: SECURE_KEY,
      endpoint: '127.0.0.1',
      port: plain.port,
      tls: false,
      disableConnectivityCheck: true,
      logLevel: 0,
    });
    try {
      assert.equal(await failedWith(client), Err.basicAuthOverNonTls.code);
    } finally {
      client.close();
    }
  });

  it('a tlsOnly app refuses a plain connection with a token (40311) and a plain requestToken', async () => {
    const raw = await RawClient.open(
      plain.port,
      `access_token=${encodeURIComponent(makeJwt(SECURE_KEY))}&format=json&v=6`,
    );
    const err = await raw.next(Action.ERROR);
    assert.equal(err.error?.code, Err.tlsRequired.code);
    assert.equal(err.error?.statusCode, 403);
    await raw.waitClosed();
    const res = await postJson(plain.port, '/keys/secure.main/requestToken', signTokenRequest(SECURE_KEY));
    assert.equal(res.status, 403);
    assert.equal(res.body?.error?.code, Err.tlsRequired.code);
    // Other apps are unaffected on the same plain port.
    const other = await RawClient.connect(plain.port, KEYS.full);
    other.close();
  });

  it('plain HTTP to the TLS port is refused without harming the server', async () => {
    await assert.rejects(fetch(`http://127.0.0.1:${secure.port}/time`));
    const res = await fetch(`https://127.0.0.1:${secure.port}/time`);
    assert.equal(res.status, 200);
  });
});
