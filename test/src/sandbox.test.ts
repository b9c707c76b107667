/**
 * Sandbox mode as SDK test suites use it: provision an app from ably-common's
 * `test-app-setup.json` over `POST /apps`, connect with each returned key and check its capability
 * is enforced, load stats fixtures over `POST /stats`, then delete the app.
 */
import { dataOf } from './helpers/field.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as Ably from 'ably';
import { Err, isArrayValue, parseJson } from '@encke/protocol';
import { closeAll, connect, connectionState, realtime, rest } from './helpers/ably.js';
import { jsonObject, objectField, responseError } from './helpers/json.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';
import { sandboxAppOf, type SandboxApp } from './helpers/sandbox-app.js';

/** The `post_apps` body of ably-common's test-app-setup.json. */
const POST_APPS = objectField(
  jsonObject(readFileSync(new URL('../fixtures/ably-common/test-app-setup.json', import.meta.url), 'utf8')),
  'post_apps',
);

/** How many items `post_apps[key]` lists (it must be an array). */
function setupCount(key: 'keys' | 'namespaces'): number {
  const items = POST_APPS[key];
  assert.ok(isArrayValue(items), `test-app-setup.json: post_apps.${key} is not an array`);
  return items.length;
}

const LOG_MAX_COUNT = 5;

type Check = [op: 'attach' | 'publish', channel: string, allowed: boolean];

/** What each key of test-app-setup.json may do, by index. */
const CAPABILITY_CHECKS: Check[][] = [
  [
    ['attach', 'anything', true],
    ['publish', 'anything', true],
  ],
  [
    ['attach', 'cansubscribe:x', true],
    ['publish', 'cansubscribe:x', false],
    ['publish', 'canpublish:x', true],
    ['attach', 'elsewhere', false],
  ],
  [
    ['publish', 'channel0', true],
    ['attach', 'channel3', true],
    ['publish', 'channel3', false],
    ['attach', 'channel9', false],
    ['publish', 'channel6', true],
  ],
  [
    ['attach', 'anything', true],
    ['publish', 'anything', false],
  ],
  [
    ['attach', 'anything', true],
    ['publish', 'anything', true],
  ],
  [
    ['attach', 'anything', true],
    ['publish', 'anything', true],
  ],
];

/** The stats fixtures of ably-js's rest/stats test, a year back. */
const YEAR = new Date().getUTCFullYear() - 1;
const STATS_FIXTURES = [
  {
    intervalId: `${YEAR}-02-03:15:03`,
    inbound: { realtime: { messages: { count: 50, data: 5000 } } },
    outbound: { realtime: { messages: { count: 20, data: 2000 } } },
  },
  {
    intervalId: `${YEAR}-02-03:15:04`,
    inbound: { realtime: { messages: { count: 60, data: 6000 } } },
    outbound: { realtime: { messages: { count: 10, data: 1000 } } },
  },
  {
    intervalId: `${YEAR}-02-03:15:05`,
    inbound: { realtime: { messages: { count: 70, data: 7000 } } },
    outbound: { realtime: { messages: { count: 40, data: 4000 } } },
    persisted: { presence: { count: 20, data: 2000 } },
    connections: { tls: { peak: 20, opened: 10 } },
    channels: { peak: 50, opened: 30 },
    apiRequests: { succeeded: 50, failed: 10 },
    tokenRequests: { succeeded: 60, failed: 20 },
  },
  {
    intervalId: `${YEAR}-03-03:15:07`,
    inbound: { realtime: { messages: { count: 15, data: 4000 } } },
    outbound: { realtime: { messages: { count: 33, data: 3000 } } },
  },
];

describe('sandbox', () => {
  let ts: TestServer;
  let app: SandboxApp;
  const post = (path: string, body: unknown, key?: string): Promise<Response> =>
    fetch(`http://127.0.0.1:${ts.port}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(key ? { authorization: `Basic ${Buffer.from(key).toString('base64')}` } : {}),
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const del = (appId: string, key: string): Promise<Response> =>
    fetch(`http://127.0.0.1:${ts.port}/apps/${appId}`, {
      method: 'DELETE',
      headers: { authorization: `Basic ${Buffer.from(key).toString('base64')}` },
    });
  const keyOf = (i: number): string => app.keys[i]!.keyStr;

  before(async () => {
    ts = await startServer({ sandbox: true, sandboxMaxApps: 2, channelLogMaxCount: LOG_MAX_COUNT });
    const res = await post('/apps', POST_APPS);
    assert.equal(res.status, 201);
    app = await sandboxAppOf(res);
  });
  after(async () => {
    await ts.close();
  });

  it('answers the app with its keys, namespaces and where to connect', () => {
    assert.match(app.appId, /^[A-Za-z0-9]+$/);
    assert.equal(typeof app.accountId, 'string');
    assert.equal(app.keys.length, setupCount('keys'));
    assert.equal(app.namespaces.length, setupCount('namespaces'));
    for (const key of app.keys) {
      assert.ok(key.keyName.startsWith(`${app.appId}.`));
      assert.equal(key.keyStr, `${key.keyName}:${key.keySecret}`);
    }
    assert.deepEqual(parseJson(app.keys[0]!.capability), { '*': ['*'] });
    assert.deepEqual(parseJson(app.keys[3]!.capability), { '*': ['subscribe'] });
    assert.equal(app.keys[4]!.revocableTokens, true);
    assert.deepEqual(
      app.namespaces.map((n) => [n.id, n.persisted]),
      [
        ['persisted', true],
        ['pushenabled', false],
        ['mutable', false],
      ],
    );
    assert.equal(app.namespaces[1]!.pushEnabled, true);
    assert.deepEqual([app.endpoint, app.port, app.tls], ['127.0.0.1', ts.port, false]);
  });

  CAPABILITY_CHECKS.forEach((checks, i) => {
    it(`enforces the capability of key ${i} over realtime`, async () => {
      const client = realtime(ts, { name: 'json', transport: 'web_socket', format: 'json' }, { key: keyOf(i) });
      try {
        await connect(client);
        for (const [op, name, allowed] of checks) {
          const channel = client.channels.get(name);
          const attempt = op === 'attach' ? channel.attach() : channel.publish('probe', 'x');
          if (allowed) await attempt;
          else
            await assert.rejects(
              attempt,
              (err: Ably.ErrorInfo) => err.code === Err.capabilityDenied.code,
              `${op} ${name} must be refused`,
            );
          client.channels.release(name);
        }
      } finally {
        await closeAll(client);
      }
    });
  });

  it('pre-enters the presence members of the app description', async () => {
    const client = new Ably.Rest({
      key: keyOf(0),
      endpoint: '127.0.0.1',
      port: ts.port,
      tls: false,
      useBinaryProtocol: false,
      logLevel: 0,
    });
    const members = await client.channels.get('persisted:presence_fixtures').presence.get();
    const byClient = new Map(members.items.map((m) => [m.clientId, m]));
    assert.deepEqual([...byClient.keys()].sort(), [
      'client_bool',
      'client_decoded',
      'client_encoded',
      'client_int',
      'client_json',
      'client_string',
    ]);
    assert.equal(new Set(members.items.map((m) => m.connectionId)).size, 1, 'one connection holds them all');
    assert.equal(dataOf(byClient.get('client_string')!), 'This is a string clientData payload');
    assert.deepEqual(dataOf(byClient.get('client_decoded')!), { example: { json: 'Object' } });
  });

  it('keeps more history in a persisted namespace', async () => {
    const client = rest(ts, 'msgpack', { key: keyOf(0) });
    for (const name of ['persisted:kept', 'plain']) {
      for (let i = 0; i < LOG_MAX_COUNT + 3; i++) await client.channels.get(name).publish(String(i), 'x');
    }
    assert.equal((await client.channels.get('persisted:kept').history()).items.length, LOG_MAX_COUNT + 3);
    assert.equal((await client.channels.get('plain').history()).items.length, LOG_MAX_COUNT);
  });

  it('loads stats fixtures and answers them by minute and hour, paged', async () => {
    assert.equal((await post('/stats', STATS_FIXTURES, keyOf(0))).status, 201);
    const client = rest(ts, 'json', { key: keyOf(0) });
    const total = (items: Ably.Stats[], entry: string): number =>
      items.reduce((n, s) => n + (s.entries[entry] ?? 0), 0);
    const minutes = await client.stats({
      start: `${YEAR}-02-03:15:03`,
      end: `${YEAR}-02-03:15:05`,
      direction: 'forwards',
    } as unknown as Ably.StatsParams);
    assert.equal(minutes.items.length, 3);
    assert.equal(total(minutes.items, 'messages.inbound.all.messages.count'), 180);
    assert.equal(total(minutes.items, 'messages.outbound.all.messages.count'), 70);
    const hours = await client.stats({
      start: `${YEAR}-02-03:15`,
      end: `${YEAR}-02-03:18`,
      direction: 'forwards',
      by: 'hour',
    } as unknown as Ably.StatsParams);
    assert.equal(hours.items.length, 1);
    assert.equal(total(hours.items, 'messages.inbound.all.messages.count'), 180);
    assert.equal(hours.items[0]!.entries['connections.all.peak'], 20);
    assert.equal(hours.items[0]!.entries['apiRequests.tokenRequests.succeeded'], 60);
    let page = await client.stats({ end: `${YEAR}-02-03:15:05`, limit: 1 } as unknown as Ably.StatsParams);
    const data: number[] = [];
    for (;;) {
      data.push(total(page.items, 'messages.inbound.all.messages.data'));
      if (!page.hasNext()) break;
      page = (await page.next())!;
    }
    assert.deepEqual(data, [7000, 6000, 5000]);
    assert.equal(total((await page.first()).items, 'messages.inbound.all.messages.data'), 7000);
  });

  it('refuses bad app descriptions and more apps than allowed', async () => {
    for (const [body, code] of [
      ['{"keys":', Err.badRequest.code],
      [{ keys: 5 }, Err.invalidRequestBody.code],
      [{ keys: [{ capability: '{"a":["fly"]}' }] }, Err.invalidRequestBody.code],
      [{ keys: [{}], namespaces: [{ id: 'a:b' }] }, Err.invalidRequestBody.code],
      [{ keys: [{}], channels: [{ name: 'x', presence: [{ data: 'no clientId' }] }] }, Err.invalidRequestBody.code],
    ] as const) {
      const res = await post('/apps', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal((await responseError(res)).code, code);
    }
    const second = await sandboxAppOf(await post('/apps', { keys: [{}] }));
    const third = await post('/apps', { keys: [{}] });
    assert.equal(third.status, 403);
    assert.equal((await responseError(third)).code, Err.forbidden.code);
    assert.equal((await del(second.appId, second.keys[0]!.keyStr)).status, 204);
  });

  it('deletes an app only with its first key, and then refuses its keys', async () => {
    for (const [appId, key] of [
      [app.appId, keyOf(1)],
      [app.appId, KEYS.full],
      ['testapp', KEYS.full],
    ] as const) {
      const res = await del(appId, key);
      assert.equal(res.status, Err.forbidden.statusCode, `${appId} with ${key.split(':')[0]}`);
      assert.equal(res.headers.get('x-ably-errorcode'), String(Err.forbidden.code));
    }
    const client = realtime(ts, { name: 'json', transport: 'web_socket', format: 'json' }, { key: keyOf(0) });
    await connect(client);
    const failed = connectionState(client, 'failed').catch(() => null);
    assert.equal((await del(app.appId, keyOf(0))).status, 204);
    await failed;
    assert.equal(client.connection.errorReason?.code, Err.invalidCredentials.code);
    await assert.rejects(
      rest(ts, 'json', { key: keyOf(0) })
        .channels.get('x')
        .publish('a', 'b'),
      (err: Ably.ErrorInfo) => err.code === Err.invalidCredentials.code,
    );
    assert.equal((await del(app.appId, keyOf(0))).status, 401, "a deleted app's key no longer authenticates");
  });
});
