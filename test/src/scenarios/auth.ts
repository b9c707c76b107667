/**
 * Token auth driven by the official ably SDK: one scenario table, run once per transport and
 * format variant and once per kind of credential a backend hands out (a signed TokenRequest, an
 * Ably JWT), through `authCallback` and `authUrl`.
 */
import { dataOf } from '../helpers/field.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type * as Ably from 'ably';
import { TokenBackend, type CredentialKind, type TokenSpec } from '../helpers/auth.js';
import {
  Collector,
  closeAll,
  connect,
  connectionState,
  eventually,
  realtime,
  rest,
  sleep,
  type Variant,
} from '../helpers/ably.js';
import { RawClient } from '../helpers/raw-ws.js';
import { KEYS, startServer, type TestServer } from '../helpers/server.js';
import { Action, Err } from '@encke/protocol';

const KINDS: CredentialKind[] = ['tokenRequest', 'jwt'];

function isCode(code: number): (err: Ably.ErrorInfo) => boolean {
  return (err) => err.code === code;
}

export function authScenarios(variants: Variant[], label: string): void {
  for (const variant of variants) {
    for (const kind of KINDS) {
      describe(`${label}: ${variant.name}, ${kind}`, () => {
        let ts: TestServer;
        const backends: TokenBackend[] = [];
        before(async () => {
          ts = await startServer();
        });
        after(async () => {
          await Promise.all(backends.map((b) => b.close()));
          await ts.close();
        });

        const backend = (spec: TokenSpec, key: string = KEYS.full): TokenBackend => {
          const b = new TokenBackend(key, spec, kind);
          backends.push(b);
          return b;
        };
        const tokenClient = (b: TokenBackend, options: Ably.ClientOptions = {}): Ably.Realtime =>
          realtime(ts, variant, { key: undefined, authCallback: b.callback, ...options });

        it('connects with a credential from authCallback, as the token clientId', async () => {
          const b = backend({ clientId: 'alice' });
          const client = await connect(tokenClient(b));
          try {
            assert.equal(client.auth.clientId, 'alice');
            assert.equal(b.calls, 1);
            const connection = ts.server.inspect.connection(client.connection.id!);
            assert.equal(connection?.authMethod, 'token');
            assert.equal(connection?.clientId, 'alice');
          } finally {
            await closeAll(client);
          }
        });

        it('connects with a credential from authUrl', async () => {
          const b = backend({ clientId: 'url-user' });
          const authUrl = await b.listen();
          const client = await connect(realtime(ts, variant, { key: undefined, authUrl }));
          try {
            assert.equal(client.auth.clientId, 'url-user');
            assert.equal(b.calls, 1);
          } finally {
            await closeAll(client);
          }
        });

        it('limits publish and subscribe to the token capability', async () => {
          const b = backend({ capability: { 'pub:*': ['publish', 'subscribe'], 'sub:*': ['subscribe'] } });
          const client = await connect(tokenClient(b));
          const other = await connect(realtime(ts, variant));
          try {
            const denied = client.channels.get('elsewhere');
            await assert.rejects(denied.attach(), isCode(Err.capabilityDenied.code));
            assert.equal(denied.state, 'failed');
            await assert.rejects(client.channels.get('sub:news').publish('n', 'd'), isCode(Err.capabilityDenied.code));
            const got = new Collector();
            const subscribed = client.channels.get('sub:news');
            await subscribed.subscribe(got.listener);
            assert.deepEqual([...(subscribed.modes ?? [])].sort(), ['presence_subscribe', 'subscribe']);
            await other.channels.get('sub:news').publish('from-key', 'hello');
            await got.waitFor(1);
            await client.channels.get('pub:room').publish('ok', 'fine');
            assert.equal(client.connection.state, 'connected');
          } finally {
            await closeAll(client, other);
          }
        });

        it('renews the token at expiry and resumes without losing messages', async () => {
          const b = backend({ clientId: 'renewer', ttl: 1500 });
          const sub = await connect(tokenClient(b));
          const pub = await connect(realtime(ts, variant));
          try {
            const id = sub.connection.id;
            const expiries: number[] = [];
            sub.connection.on('disconnected', (change) => expiries.push(change.reason?.code ?? 0));
            const got = new Collector();
            await sub.channels.get('renew').subscribe(got.listener);
            const count = 70;
            for (let i = 0; i < count; i++) {
              await pub.channels.get('renew').publish('m', String(i));
              await sleep(50);
            }
            const items = await got.waitFor(count);
            assert.deepEqual(
              items.map((m) => dataOf(m)),
              Array.from({ length: count }, (_, i) => String(i)),
            );
            assert.ok(
              expiries.length >= 1 && expiries.every((c) => c === Err.tokenExpired.code),
              `expiries: ${JSON.stringify(expiries)}`,
            );
            assert.ok(b.calls >= 2, `token fetched ${b.calls} times`);
            assert.equal(sub.connection.id, id, 'the connection was resumed');
          } finally {
            await closeAll(sub, pub);
          }
        });

        it('reauthorises in band; a downgraded capability fails the channels it no longer allows', async () => {
          const b = backend({ clientId: 'reauth', capability: { '*': ['*'] } });
          const client = await connect(tokenClient(b));
          try {
            const id = client.connection.id;
            const room = client.channels.get('room');
            const keep = client.channels.get('keep');
            await Promise.all([room.attach(), keep.attach()]);
            b.spec = { clientId: 'reauth', capability: { keep: ['subscribe'] } };
            const failed = new Promise<Ably.ChannelStateChange>((resolve) => room.once('failed', resolve));
            await client.auth.authorize();
            assert.equal((await failed).reason?.code, Err.capabilityDenied.code);
            assert.equal(keep.state, 'attached');
            const narrowed = (): boolean => [...(keep.modes ?? [])].sort().join() === 'presence_subscribe,subscribe';
            await eventually(narrowed, 5000, `keep's modes narrowed (are ${JSON.stringify(keep.modes)})`);
            await assert.rejects(keep.publish('x', 'y'), isCode(Err.capabilityDenied.code));
            assert.equal(client.connection.id, id);
            assert.equal(client.connection.state, 'connected');
          } finally {
            await closeAll(client);
          }
        });

        it('enforces the token clientId; a wildcard token may name any clientId per message', async () => {
          const identified = await connect(tokenClient(backend({ clientId: 'alice' })));
          const wildcard = await connect(tokenClient(backend({ clientId: '*' })));
          const watcher = await connect(realtime(ts, variant));
          try {
            const got = new Collector();
            await watcher.channels.get('ids').subscribe(got.listener);
            await assert.rejects(
              identified.channels.get('ids').publish({ name: 'spoof', data: 'x', clientId: 'mallory' }),
              isCode(Err.invalidClientId.code),
            );
            await identified.channels.get('ids').publish({ name: 'own', data: 'x' });
            assert.equal(wildcard.auth.clientId, '*');
            await wildcard.channels.get('ids').publish({ name: 'chosen', data: 'x', clientId: 'carol' });
            const items = await got.waitFor(2);
            assert.deepEqual(
              items.map((m) => [m.name, m.clientId]),
              [
                ['own', 'alice'],
                ['chosen', 'carol'],
              ],
            );
          } finally {
            await closeAll(identified, wildcard, watcher);
          }
        });

        it('disconnects holders of revoked tokens (40141); a token issued after the revocation resumes', async () => {
          const b = backend({ clientId: 'victim' }, KEYS.revocable);
          const client = await connect(tokenClient(b));
          const admin = rest(ts, variant.format, { key: KEYS.revocable });
          try {
            const id = client.connection.id;
            const oldToken = (client.auth as unknown as { tokenDetails: Ably.TokenDetails }).tokenDetails.token;
            const disconnected = new Promise<Ably.ConnectionStateChange>((resolve) =>
              client.connection.once('disconnected', resolve),
            );
            // The backend's next token must count as issued at or after the revocation point.
            const issuedBefore = (b.notBefore = Date.now());
            const result = await admin.auth.revokeTokens([{ type: 'clientId', value: 'victim' }], { issuedBefore });
            assert.equal(result.successCount, 1);
            assert.equal(result.results[0]!.target, 'clientId:victim');
            assert.equal((await disconnected).reason?.code, Err.tokenRevoked.code);
            await connectionState(client, 'connected');
            assert.equal(client.connection.id, id);
            assert.ok(b.calls >= 2);
            const raw = await RawClient.open(ts.port, `access_token=${encodeURIComponent(oldToken)}&format=json&v=6`);
            assert.equal((await raw.next(Action.ERROR)).error?.code, Err.tokenRevoked.code);
            await raw.waitClosed();
          } finally {
            await closeAll(client);
          }
        });
      });
    }
  }
}
