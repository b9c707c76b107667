/**
 * Finding 5 of issue 12: a comet request acts as the connection it names, so it must carry the
 * connection's own credential (or one that grants exactly the same: key, clientId, capability).
 * Another connection's key plus a weaker credential of the same app, a key with less capability or
 * a token narrowed from the same key, is refused with 40102 on every comet endpoint, without
 * harming the connection; a credential the client switches to by in-band AUTH is accepted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Action, Err } from '@encke/protocol';
import { basicAuth, postJson } from '../helpers/auth.js';
import { cometRequest, JSON_TYPE, RawCometClient } from '../helpers/raw-comet.js';
import { KEYS, startServer, type TestServer } from '../helpers/server.js';
import { bodyError } from '../helpers/json.js';

const SECRET = 'secret-channel';

describe('comet requests bound to the connection credential (issue 12, finding 5)', () => {
  let ts: TestServer;
  const token = async (capability: Record<string, string[]>, clientId?: string): Promise<string> => {
    const res = await postJson(
      ts.port,
      '/keys/testapp.full/requestToken',
      { capability: JSON.stringify(capability), ...(clientId ? { clientId } : {}) },
      basicAuth(KEYS.full),
    );
    assert.equal(res.status, 200);
    return res.body!.token!;
  };
  const as = (credential: { key?: string; token?: string }): string =>
    credential.key !== undefined
      ? `key=${encodeURIComponent(credential.key)}`
      : `access_token=${encodeURIComponent(credential.token!)}`;

  before(async () => {
    ts = await startServer();
  });
  after(async () => {
    await ts.close();
  });

  const weaker: [string, () => Promise<{ key?: string; token?: string }>][] = [
    ['a key of the same app with less capability', () => Promise.resolve({ key: KEYS.limited })],
    ['a subscribe-only key', () => Promise.resolve({ key: KEYS.subscribeOnly })],
    ['a token narrowed from the very same key', async () => ({ token: await token({ 'allowed:*': ['*'] }) })],
  ];

  for (const [name, credential] of weaker) {
    it(`another connection's key plus ${name}: send, recv, close and disconnect are refused with 40102, the connection unharmed`, async () => {
      const victim = await RawCometClient.connect(ts.port, { key: KEYS.full });
      const creds = as(await credential());
      const path = (endpoint: string): string => `/comet/${victim.connectionKey}/${endpoint}?${creds}`;
      const sent = await cometRequest(ts.port, path('send'), {
        method: 'POST',
        body: JSON.stringify([{ action: Action.ATTACH, channel: SECRET }]),
        headers: { 'content-type': JSON_TYPE },
      });
      assert.equal(sent.status, 401);
      assert.equal(bodyError(sent.body).code, Err.incompatibleCredentials.code);
      for (const endpoint of ['recv', 'close', 'disconnect']) {
        const res = await cometRequest(ts.port, path(endpoint));
        assert.equal(res.status, 401, endpoint);
        assert.equal(bodyError(res.body).code, Err.incompatibleCredentials.code, endpoint);
      }
      // The victim's connection never attached the channel and still works.
      await victim.send([{ action: Action.ATTACH, channel: 'mine' }]);
      await victim.next(Action.ATTACHED, 5000, (pm) => pm.channel === 'mine');
      assert.ok(!victim.log.some((pm) => pm.channel === SECRET), 'nothing happened on the secret channel');
      await victim.close();
    });
  }

  it('a token granting exactly the same (same key, clientId and capability) is accepted', async () => {
    const capability = { '*': ['*'] };
    const victim = await RawCometClient.connect(ts.port, { token: await token(capability, 'same') });
    const twin = await token(capability, 'same');
    const res = await cometRequest(ts.port, `/comet/${victim.connectionKey}/send?${as({ token: twin })}`, {
      method: 'POST',
      body: JSON.stringify([{ action: Action.ATTACH, channel: 'twin' }]),
      headers: { 'content-type': JSON_TYPE },
    });
    assert.equal(res.status, 204);
    await victim.next(Action.ATTACHED, 5000, (pm) => pm.channel === 'twin');
    await victim.close();
  });

  it('in-band reauth: a send carrying AUTH with its own new token is accepted, and the new token then acts for the connection', async () => {
    const client = await RawCometClient.connect(ts.port, { token: await token({ '*': ['*'] }, 'reauth') });
    const narrower = await token({ 'allowed:*': ['*'] }, 'reauth');
    const send = (body: unknown[]): Promise<{ status: number }> =>
      cometRequest(ts.port, `/comet/${client.connectionKey}/send?${as({ token: narrower })}`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': JSON_TYPE },
      });
    assert.equal((await send([{ action: Action.AUTH, auth: { accessToken: narrower } }])).status, 204);
    await client.next(Action.CONNECTED);
    assert.equal((await send([{ action: Action.ATTACH, channel: 'allowed:x' }])).status, 204);
    await client.next(Action.ATTACHED, 5000, (pm) => pm.channel === 'allowed:x');
    client.drop(); // its own requests still carry the old token
  });
});
