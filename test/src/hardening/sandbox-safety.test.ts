/**
 * Finding 6 of issue 12: sandbox mode is unauthenticated by design, so it must not be an open door:
 * bodies only as `application/json` or msgpack and within `sandboxMaxBodySize`, no CORS on sandbox
 * routes (a web page cannot create apps and read their keys), `POST /stats` for sandbox apps only,
 * a warning when it starts, and a refusal to listen on a non-loopback address unless asked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Err, type ErrorDef } from '@encke/protocol';
import { SANDBOX_WARNING, createServer, isLoopbackHost } from '@encke/server';
import { parseCommand, type ServeCommand } from 'encke';
import { RecordingLogger } from '../helpers/logs.js';
import { KEYS, startServer, type TestServer } from '../helpers/server.js';
import { responseError } from '../helpers/json.js';
import { sandboxAppOf } from '../helpers/sandbox-app.js';

const MAX_BODY = 4096;
const ORIGIN = 'https://some-web-page.example';
const members = (n: number): { clientId: string; data: string }[] =>
  Array.from({ length: n }, (_, i) => ({ clientId: `member-${i}`, data: 'x'.repeat(20) }));

interface Case {
  name: string;
  headers: Record<string, string>;
  body: string;
  expect: ErrorDef;
}

const BAD_REQUESTS: Case[] = [
  {
    name: 'text/plain body (what a page sends without a preflight)',
    headers: { 'content-type': 'text/plain' },
    body: '{"keys":[{}]}',
    expect: Err.unsupportedMediaType,
  },
  {
    name: 'form body',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'keys=1',
    expect: Err.unsupportedMediaType,
  },
  { name: 'no Content-Type', headers: {}, body: '{"keys":[{}]}', expect: Err.unsupportedMediaType },
  {
    name: `body past sandboxMaxBodySize (${MAX_BODY})`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ keys: [{}], channels: [{ name: 'c', presence: members(1000) }] }),
    expect: Err.requestTooLarge,
  },
  {
    name: '100 channels of 1,000 members',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      keys: [{}],
      channels: Array.from({ length: 100 }, (_, i) => ({ name: `c${i}`, presence: members(1000) })),
    }),
    expect: Err.requestTooLarge,
  },
];

describe('sandbox safety (issue 12, finding 6)', () => {
  let ts: TestServer;
  const logger = new RecordingLogger();
  const url = (path: string): string => `http://127.0.0.1:${ts.port}${path}`;
  const appCount = (): number => logger.entries.filter((e) => e.msg === 'sandbox app created').length;

  before(async () => {
    ts = await startServer({ sandbox: true, sandboxMaxBodySize: MAX_BODY, logger });
  });
  after(async () => {
    await ts.close();
  });

  it('warns at start that sandbox mode is unauthenticated', () => {
    assert.ok(
      logger.at('warn').some((e) => e.msg === SANDBOX_WARNING),
      'the sandbox banner is logged at warn',
    );
    assert.match(SANDBOX_WARNING, /UNAUTHENTICATED/);
  });

  for (const c of BAD_REQUESTS) {
    it(`POST /apps with ${c.name}: ${c.expect.statusCode} ${c.expect.code}, no app made`, async () => {
      const before = appCount();
      const res = await fetch(url('/apps'), { method: 'POST', headers: c.headers, body: c.body });
      assert.equal(res.status, c.expect.statusCode);
      assert.equal((await responseError(res)).code, c.expect.code);
      assert.equal(appCount(), before);
    });
  }

  it('sandbox routes answer no CORS: a page can neither preflight nor read the answer', async () => {
    const preflight = await fetch(url('/apps'), {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
    assert.equal(preflight.headers.get('access-control-allow-credentials'), null);
    const created = await fetch(url('/apps'), {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/json' },
      body: '{"keys":[{}]}',
    });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('access-control-allow-origin'), null);
    const { appId, keys } = await sandboxAppOf(created);
    const auth = { authorization: `Basic ${Buffer.from(keys[0]!.keyStr).toString('base64')}` };
    for (const [method, path] of [
      ['POST', '/stats'],
      ['DELETE', `/apps/${appId}`],
    ] as const) {
      const pre = await fetch(url(path), {
        method: 'OPTIONS',
        headers: { origin: ORIGIN, 'access-control-request-method': method },
      });
      assert.equal(pre.headers.get('access-control-allow-origin'), null, `${method} ${path}`);
    }
    const deleted = await fetch(url(`/apps/${appId}`), { method: 'DELETE', headers: { origin: ORIGIN, ...auth } });
    assert.equal(deleted.status, 204);
    assert.equal(deleted.headers.get('access-control-allow-origin'), null);
  });

  it('the rest of the API keeps its CORS (browsers use the SDK against it)', async () => {
    const pre = await fetch(url('/channels/x/messages'), {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST' },
    });
    assert.equal(pre.headers.get('access-control-allow-origin'), ORIGIN);
    const stats = await fetch(url('/stats'), {
      headers: { origin: ORIGIN, authorization: `Basic ${Buffer.from(KEYS.full).toString('base64')}` },
    });
    assert.equal(stats.status, 200);
    assert.equal(stats.headers.get('access-control-allow-origin'), ORIGIN);
  });

  it("POST /stats refuses a configured app's key (40300), loads into a sandbox app", async () => {
    const fixture = JSON.stringify([
      { intervalId: '2020-01-01:10:00', inbound: { realtime: { messages: { count: 1, data: 1 } } } },
    ]);
    const configured = await fetch(url('/stats'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(KEYS.full).toString('base64')}`,
      },
      body: fixture,
    });
    assert.equal(configured.status, 403);
    assert.equal((await responseError(configured)).code, Err.forbidden.code);
    const app = await sandboxAppOf(
      await fetch(url('/apps'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"keys":[{}]}',
      }),
    );
    const sandboxed = await fetch(url('/stats'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(app.keys[0]!.keyStr).toString('base64')}`,
      },
      body: fixture,
    });
    assert.equal(sandboxed.status, 201);
  });

  it('refuses to run on a non-loopback address unless sandboxPublic is set', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com']) {
      assert.throws(() => createServer({ sandbox: true, host, port: 0 }), /loopback.*sandboxPublic/, host);
      assert.doesNotThrow(() => createServer({ sandbox: true, sandboxPublic: true, host, port: 0 }), host);
      assert.doesNotThrow(() => createServer({ host, port: 0 }), `${host} without sandbox`);
    }
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]']) assert.ok(isLoopbackHost(host), host);
    assert.equal(
      (parseCommand(['serve', '--sandbox', '--sandbox-public', '--host', '0.0.0.0'], {}) as ServeCommand).options
        .sandboxPublic,
      true,
    );
  });
});
