/**
 * Token lifecycle on live connections, on a fake clock (no sleeps): expiry sends DISCONNECTED 40142
 * and keeps the connection for a resume; in-band AUTH moves the expiry; a revocation with
 * `allowReauthMargin` first asks holders to reauthorise, then disconnects those that did not.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Action, Err } from '@encke/protocol';
import type { TokenParams } from '@encke/server';
import { FakeClock } from '@encke/server/internal';
import { basicAuth, postJson } from './helpers/auth.js';
import { eventually } from './helpers/ably.js';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

describe('token lifecycle (fake clock)', () => {
  let ts: TestServer;
  let clock: FakeClock;
  before(async () => {
    clock = new FakeClock(Date.now());
    // Idle detection must not fire when the clock jumps ahead of the real clients.
    ts = await startServer({ clock, maxIdleInterval: 120_000 });
  });
  after(async () => {
    await ts.close();
  });

  const keyName = (key: string): string => key.slice(0, key.indexOf(':'));
  function token(key: string, params: TokenParams): string {
    return ts.server.tokens.issue(ts.server.apps.findKey(keyName(key))!, params).token;
  }
  async function open(
    accessToken: string,
    extra = '',
  ): Promise<{ client: RawClient; connectionId: string; connectionKey: string }> {
    const client = await RawClient.open(
      ts.port,
      `access_token=${encodeURIComponent(accessToken)}&format=json&v=6${extra}`,
    );
    const connected = await client.next(Action.CONNECTED);
    assert.equal(connected.error, undefined);
    return {
      client,
      connectionId: connected.connectionId!,
      connectionKey: connected.connectionDetails!.connectionKey!,
    };
  }
  async function alive(client: RawClient, id: string): Promise<void> {
    client.send({ action: Action.HEARTBEAT, id });
    assert.equal((await client.next(Action.HEARTBEAT, 5000, (pm) => pm.id === id)).id, id);
    assert.ok(!client.log.some((pm) => pm.action === Action.DISCONNECTED), 'not disconnected');
  }
  async function cleanUp(): Promise<void> {
    for (const id of ts.server.inspect.connectionIds()) ts.server.inspect.discard(id);
    await eventually(() => ts.server.inspect.connections === 0, 2000, 'sessions gone');
  }

  it('at expiry sends DISCONNECTED 40142 and keeps the connection; a new token resumes it', async () => {
    const { client, connectionId, connectionKey } = await open(token(KEYS.full, { ttl: 5000, clientId: 'exp' }));
    clock.advance(4999);
    await alive(client, 'before-expiry');
    clock.advance(1);
    const dis = await client.next(Action.DISCONNECTED);
    assert.equal(dis.error?.code, Err.tokenExpired.code);
    assert.equal(dis.error?.statusCode, 401);
    await client.waitClosed();
    assert.equal(ts.server.inspect.connection(connectionId)?.state, 'disconnected');
    const resumed = await open(
      token(KEYS.full, { ttl: 60_000, clientId: 'exp' }),
      `&resume=${encodeURIComponent(connectionKey)}`,
    );
    assert.equal(resumed.connectionId, connectionId);
    clock.advance(10_000);
    await alive(resumed.client, 'after-resume');
    resumed.client.close();
    await cleanUp();
  });

  it('in-band AUTH answers CONNECTED on the same connection and moves the expiry', async () => {
    const { client, connectionId } = await open(token(KEYS.full, { ttl: 5000, clientId: 'mover' }));
    clock.advance(1000);
    client.send({ action: Action.AUTH, auth: { accessToken: token(KEYS.full, { ttl: 60_000, clientId: 'mover' }) } });
    const again = await client.next(Action.CONNECTED);
    assert.equal(again.connectionId, connectionId);
    assert.equal(again.connectionDetails?.clientId, 'mover');
    clock.advance(10_000);
    await alive(client, 'past-first-expiry');
    client.close();
    await cleanUp();
  });

  it('a revocation with allowReauthMargin asks holders to reauthorise, then disconnects those that did not (40141)', async () => {
    const holder = { ttl: 600_000, clientId: 'victim' };
    const obedient = await open(token(KEYS.revocable, holder));
    const stubborn = await open(token(KEYS.revocable, holder));
    const bystander = await open(token(KEYS.revocable, { ttl: 600_000, clientId: 'bystander' }));
    clock.advance(1);
    const res = await postJson(
      ts.port,
      `/keys/${keyName(KEYS.revocable)}/revokeTokens`,
      { targets: ['clientId:victim'], allowReauthMargin: true },
      basicAuth(KEYS.revocable),
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body?.results?.[0]?.appliesAt, clock.now() + 30_000);
    await obedient.client.next(Action.AUTH);
    await stubborn.client.next(Action.AUTH);
    // Issued after the revocation point: not covered.
    obedient.client.send({ action: Action.AUTH, auth: { accessToken: token(KEYS.revocable, holder) } });
    assert.equal((await obedient.client.next(Action.CONNECTED)).connectionId, obedient.connectionId);
    clock.advance(29_999);
    await alive(stubborn.client, 'within-margin');
    clock.advance(1);
    assert.equal((await stubborn.client.next(Action.DISCONNECTED)).error?.code, Err.tokenRevoked.code);
    await alive(obedient.client, 'reauthorised');
    await alive(bystander.client, 'not-targeted');
    assert.ok(
      !bystander.client.log.some((pm) => pm.action === Action.AUTH),
      'the bystander was not asked to reauthorise',
    );
    obedient.client.close();
    bystander.client.close();
    await cleanUp();
  });

  it('an immediate revocation disconnects holders at once, and their token no longer connects', async () => {
    const accessToken = token(KEYS.revocable, { ttl: 600_000, clientId: 'gone' });
    const { client } = await open(accessToken);
    clock.advance(1);
    const res = await postJson(
      ts.port,
      `/keys/${keyName(KEYS.revocable)}/revokeTokens`,
      { targets: ['clientId:gone'] },
      basicAuth(KEYS.revocable),
    );
    assert.equal(res.body?.successCount, 1);
    assert.equal((await client.next(Action.DISCONNECTED)).error?.code, Err.tokenRevoked.code);
    const retry = await RawClient.open(ts.port, `access_token=${encodeURIComponent(accessToken)}&format=json&v=6`);
    assert.equal((await retry.next(Action.ERROR)).error?.code, Err.tokenRevoked.code);
    await cleanUp();
  });
});
