/**
 * Auth in @encke/client against a real server: tokens from an authCallback (callback and promise
 * style, TokenRequests and JWTs), an authUrl (GET and POST), a key signing its own requests;
 * renewal before expiry in band, renewal after the server's 40142 with a resume, no means to
 * renew (40171), explicit authorize(), and a failing auth provider.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ConnectionStateChange, Realtime } from '@encke/client';
import { fetchToken, makeJwt, TokenBackend } from '../helpers/auth.js';
import { CLIENT_VARIANTS, closeClients, enckeClient, reach } from '../helpers/encke-client.js';
import { KEYS, startServer, type TestServer } from '../helpers/server.js';

const VARIANTS = CLIENT_VARIANTS.filter((v) => v.format === 'json' && v.transport !== 'polling');

describe('@encke/client auth', () => {
  let ts: TestServer;
  const backends: TokenBackend[] = [];
  const clients: Realtime[] = [];
  const track = (c: Realtime): Realtime => {
    clients.push(c);
    return c;
  };
  before(async () => {
    ts = await startServer();
  });
  after(async () => {
    await closeClients(...clients);
    await Promise.all(backends.map((b) => b.close()));
    await ts.close();
  });

  for (const v of VARIANTS) {
    describe(v.name, () => {
      for (const kind of ['tokenRequest', 'jwt'] as const) {
        it(`authCallback (${kind}): connects with the token's clientId`, async () => {
          const backend = new TokenBackend(KEYS.full, { clientId: `cb-${kind}` }, kind);
          const c = track(enckeClient(ts, v, { key: undefined, authCallback: backend.callback }));
          await reach(c, 'connected');
          assert.equal(c.auth.clientId, `cb-${kind}`);
          assert.equal(backend.calls, 1);
          await c.channels.get('cb').presence.enter('in');
        });
      }

      it('authCallback returning a promise of a token string', async () => {
        const c = track(
          enckeClient(ts, v, {
            key: undefined,
            authCallback: () => fetchToken(ts.port, KEYS.full, { clientId: 'promised' }),
          }),
        );
        await reach(c, 'connected');
        assert.equal(c.auth.clientId, 'promised');
      });

      it('authUrl (GET) serving TokenRequests, and POST with authParams', async () => {
        const backend = new TokenBackend(KEYS.full, { clientId: 'via-url' }, 'tokenRequest');
        backends.push(backend);
        const url = await backend.listen();
        const c = track(enckeClient(ts, v, { key: undefined, authUrl: url }));
        await reach(c, 'connected');
        assert.equal(c.auth.clientId, 'via-url');
        const posted = track(
          enckeClient(ts, v, { key: undefined, authUrl: url, authMethod: 'POST', authParams: { user: 'x' } }),
        );
        await reach(posted, 'connected');
        assert.equal(backend.calls, 2);
      });

      it('a key with useTokenAuth signs its own TokenRequest', async () => {
        const c = track(enckeClient(ts, v, { useTokenAuth: true, clientId: 'signer' }));
        await reach(c, 'connected');
        assert.equal(c.auth.clientId, 'signer');
        assert.ok(c.auth.tokenDetails?.token && c.auth.tokenDetails.expires);
      });

      it('renews a token before it expires, in band: same connection, no disconnection', async () => {
        const backend = new TokenBackend(KEYS.full, { clientId: 'renewer', ttl: 3000 }, 'tokenRequest');
        const c = track(enckeClient(ts, v, { key: undefined, authCallback: backend.callback }));
        await reach(c, 'connected');
        const id = c.connection.id;
        const changes: ConnectionStateChange[] = [];
        c.connection.on((change) => changes.push(change));
        await new Promise((r) => setTimeout(r, 3500));
        assert.ok(backend.calls >= 2, `renewed ${backend.calls - 1} times`);
        assert.equal(c.connection.id, id);
        assert.deepEqual([...new Set(changes.map((x) => x.event))], ['update']);
        await c.channels.get('renewed').publish('after', 'renewal');
      });

      it("the server's 40142 at expiry: a new token and a resume of the same connection", async () => {
        let calls = 0;
        // Plain token strings: the client cannot know when they expire, so the server tells it.
        const c = track(
          enckeClient(ts, v, {
            key: undefined,
            authCallback: () => (calls++, fetchToken(ts.port, KEYS.full, { clientId: 'expirer', ttl: 1500 })),
          }),
        );
        await reach(c, 'connected');
        const id = c.connection.id;
        const lost = await c.connection.once('disconnected');
        assert.equal(lost.reason?.code, 40142);
        await reach(c, 'connected');
        assert.equal(c.connection.id, id);
        assert.equal(calls, 2);
      });

      it('a token with no means to renew it fails at expiry with 40171', async () => {
        const token = await fetchToken(ts.port, KEYS.full, { ttl: 1500 });
        const c = track(enckeClient(ts, v, { key: undefined, token }));
        await reach(c, 'connected');
        const failed = await c.connection.once('failed');
        assert.equal(failed.reason?.code, 40171);
      });

      it('authorize() applies a new token in band and resolves once accepted', async () => {
        const backend = new TokenBackend(KEYS.full, { clientId: 'authz' }, 'jwt');
        const c = track(enckeClient(ts, v, { key: undefined, authCallback: backend.callback }));
        await reach(c, 'connected');
        const id = c.connection.id;
        const details = await c.auth.authorize();
        assert.equal(details.token, c.auth.tokenDetails?.token);
        assert.equal(backend.calls, 2);
        assert.equal(c.connection.id, id);
        assert.equal(c.connection.state, 'connected');
      });

      it('a failing auth provider: disconnected with 80019, connects once it works again', async () => {
        const backend = new TokenBackend(KEYS.full, { clientId: 'flaky' }, 'tokenRequest');
        backend.refuse = true;
        const c = track(
          enckeClient(ts, v, { key: undefined, authCallback: backend.callback, disconnectedRetryTimeout: 200 }),
        );
        const change = await c.connection.once('disconnected');
        assert.equal(change.reason?.code, 80019);
        backend.refuse = false;
        await reach(c, 'connected');
      });
    });
  }

  it('an authUrl answering 403 fails the connection (RSA4d)', async () => {
    const http = createServer((_req, res) => res.writeHead(403, { 'content-type': 'text/plain' }).end('no'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const c = track(
      enckeClient(ts, CLIENT_VARIANTS[0]!, {
        key: undefined,
        authUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}/`,
      }),
    );
    try {
      const change = await c.connection.once(['failed', 'disconnected']);
      assert.equal(change.current, 'failed');
      assert.equal(change.reason?.statusCode, 403);
    } finally {
      http.close();
    }
  });

  it('requestToken answering JSON that is no TokenDetails: not taken as a token, the connection waits with the error', async () => {
    // The server's answer to the exchange of a signed TokenRequest, replaced by an object without a token.
    const forged: typeof fetch = (input, init) =>
      String(input instanceof Request ? input.url : input).includes('/requestToken')
        ? Promise.resolve(Response.json({ keyName: 'testapp.full', expires: 1 }))
        : fetch(input, init);
    const c = track(
      enckeClient(ts, CLIENT_VARIANTS[0]!, { useTokenAuth: true, fetch: forged, disconnectedRetryTimeout: 60_000 }),
    );
    const change = await c.connection.once(['failed', 'disconnected']);
    assert.match(change.reason?.message ?? '', /no TokenDetails/);
    assert.equal(c.auth.tokenDetails, undefined);
  });

  it('a JWT given as the token connects without any renewal means', async () => {
    const c = track(
      enckeClient(ts, CLIENT_VARIANTS[0]!, { key: undefined, token: makeJwt(KEYS.full, { clientId: 'jwt-only' }) }),
    );
    await reach(c, 'connected');
    assert.equal(c.auth.clientId, 'jwt-only');
  });
});
