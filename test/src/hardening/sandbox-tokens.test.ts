/**
 * Finding 7 of issue 12: keys of sandbox apps (created over `POST /apps`) get tokens on every token
 * path, driven by the official SDK where it has one: `auth.requestToken` (a signed TokenRequest),
 * basic-auth `requestToken`, `authCallback` and `authUrl` with TokenRequests and JWTs, and
 * `revokeTokens` on a revocable key.
 */
import { dataOf } from '../helpers/field.js';
import { parseJson } from '@encke/protocol';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as Ably from 'ably';
import { basicAuth, postJson, TokenBackend, type CredentialKind } from '../helpers/auth.js';
import { closeAll, connect, realtime, rest, WS_VARIANTS, type Format } from '../helpers/ably.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { sandboxAppOf, type SandboxApp } from '../helpers/sandbox-app.js';

describe('tokens for sandbox apps (issue 12, finding 7)', () => {
  let ts: TestServer;
  let app: SandboxApp;
  let key: string;
  let revocableKey: string;

  before(async () => {
    ts = await startServer({ sandbox: true });
    const res = await fetch(`http://127.0.0.1:${ts.port}/apps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        keys: [{}, { revocableTokens: true }, { capability: '{"public:*":["subscribe","publish"]}' }],
      }),
    });
    assert.equal(res.status, 201);
    app = await sandboxAppOf(res);
    key = app.keys[0]!.keyStr;
    revocableKey = app.keys[1]!.keyStr;
  });
  after(async () => {
    await ts.close();
  });

  for (const format of ['json', 'msgpack'] as Format[]) {
    it(`${format}: the SDK's auth.requestToken (a signed TokenRequest) gets a token that publishes`, async () => {
      const client = rest(ts, format, { key });
      const details = await client.auth.requestToken({ clientId: 'sdk', capability: { 'a:*': ['publish'] } });
      assert.equal(details.clientId, 'sdk');
      assert.deepEqual(parseJson(details.capability), { 'a:*': ['publish'] });
      await rest(ts, format, { key: undefined, token: details.token }).channels.get('a:x').publish('m', 'x');
    });
  }

  it('basic-auth requestToken with token params', async () => {
    const res = await postJson(
      ts.port,
      `/keys/${app.keys[2]!.keyName}/requestToken`,
      { clientId: 'basic', capability: '{"public:x":["publish"]}' },
      basicAuth(app.keys[2]!.keyStr),
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body?.clientId, 'basic');
    assert.deepEqual(parseJson(res.body!.capability!), { 'public:x': ['publish'] });
  });

  for (const kind of ['tokenRequest', 'jwt'] as CredentialKind[]) {
    for (const via of ['authCallback', 'authUrl'] as const) {
      for (const variant of WS_VARIANTS) {
        it(`${variant.name}: ${kind} through ${via} connects, publishes and subscribes`, async () => {
          const backend = new TokenBackend(key, { clientId: `${kind}-${via}` }, kind);
          const options: Ably.ClientOptions =
            via === 'authCallback' ? { authCallback: backend.callback } : { authUrl: await backend.listen() };
          const client = realtime(ts, variant, { key: undefined, ...options });
          try {
            await connect(client);
            assert.equal(client.auth.clientId, `${kind}-${via}`);
            const channel = client.channels.get('tokens');
            const received = new Promise<Ably.Message>((resolve) => void channel.subscribe((m) => resolve(m)));
            await channel.publish('m', 'hello');
            assert.equal(dataOf(await received), 'hello');
            assert.ok(backend.calls >= 1);
          } finally {
            await closeAll(client);
            await backend.close();
          }
        });
      }
    }
  }

  it('revokeTokens on a revocable sandbox key revokes, on another key answers 40164', async () => {
    const client = rest(ts, 'json', { key: revocableKey });
    const result = await client.auth.revokeTokens([{ type: 'clientId', value: 'someone' }]);
    assert.equal(result.successCount, 1);
    assert.equal(result.failureCount, 0);
    await assert.rejects(
      rest(ts, 'json', { key }).auth.revokeTokens([{ type: 'clientId', value: 'someone' }]),
      (err: Ably.ErrorInfo) => err.code === 40164,
    );
  });
});
