/**
 * Per-app allowed origins (`allowedOrigins`): pages of other origins are refused (40300) on every
 * way in (REST, WebSocket, comet, JSONP by Referer, iframe target origin, the SSE API); requests
 * from no page are not affected; apps without the option take any origin, as Ably does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Action, Err } from '@encke/protocol';
import { buildApp, ConfigError } from '@encke/server';
import WebSocket from 'ws';
import { jsonMessage, responseError } from './helpers/json.js';
import { jsonpRequest } from './helpers/jsonp.js';
import { cometRequest } from './helpers/raw-comet.js';
import { KEYS, TEST_APPS, startServer, type TestServer } from './helpers/server.js';

const GOOD = 'http://good.example:8080';
const BAD = 'http://evil.example';
const LOCKED_KEY = 'locked.main:locked-secret-0001';
const K = `key=${encodeURIComponent(LOCKED_KEY)}`;

describe('allowed origins', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer({
      apps: [...TEST_APPS, { id: 'locked', keys: [{ key: LOCKED_KEY }], allowedOrigins: [GOOD] }],
    });
  });
  after(() => ts.close());

  const rest = (headers: Record<string, string>): Promise<Response> =>
    fetch(`http://127.0.0.1:${ts.port}/channels/x/messages?${K}`, { headers });

  it('REST: the allowed origin and no origin pass, another origin is 40300', async () => {
    assert.equal((await rest({ Origin: GOOD })).status, 200);
    assert.equal((await rest({})).status, 200);
    const refused = await rest({ Origin: BAD });
    assert.equal(refused.status, 403);
    assert.equal((await responseError(refused)).code, Err.forbidden.code);
    assert.equal(refused.headers.get('access-control-allow-origin'), BAD, 'the page can read why');
  });

  it('apps without allowedOrigins take any origin', async () => {
    const res = await fetch(`http://127.0.0.1:${ts.port}/channels/x/messages?key=${encodeURIComponent(KEYS.full)}`, {
      headers: { Origin: BAD },
    });
    assert.equal(res.status, 200);
  });

  it('WebSocket: a page of another origin gets ERROR 40300', async () => {
    for (const [origin, ok] of [
      [GOOD, true],
      [BAD, false],
    ] as const) {
      const ws = new WebSocket(`ws://127.0.0.1:${ts.port}/?${K}&format=json&v=6`, { origin });
      const first = jsonMessage(
        await new Promise<string>((resolve) => ws.once('message', (d: Buffer) => resolve(d.toString()))),
      );
      assert.equal(first.action, ok ? Action.CONNECTED : Action.ERROR, origin);
      if (!ok) assert.equal(first.error?.code, Err.forbidden.code);
      ws.close();
    }
  });

  it('comet, JSONP (by Referer), iframe target origin and the SSE API are refused alike', async () => {
    const comet = await cometRequest(ts.port, `/comet/connect?${K}&v=6&stream=false`, { headers: { Origin: BAD } });
    assert.equal(comet.batches.flat().at(-1)?.error?.code, Err.forbidden.code);
    const jsonp = await new Promise<number | undefined>((resolve) => {
      void fetch(`http://127.0.0.1:${ts.port}/comet/connect?${K}&v=2&envelope=jsonp&callback=cb`, {
        headers: { Referer: `${BAD}/page.html` },
      })
        .then((r) => r.text())
        .then((t) => resolve(/"code":(\d+)/.exec(t)?.[1] ? Number(/"code":(\d+)/.exec(t)![1]) : undefined));
    });
    assert.equal(jsonp, Err.forbidden.code);
    // Connect answers in its own framing, as for bad credentials: the ERROR is the document's only batch.
    const iframe = await (
      await fetch(
        `http://127.0.0.1:${ts.port}/comet/connect?${K}&v=6&envelope=htmlfile&origin=${encodeURIComponent(BAD)}`,
      )
    ).text();
    assert.match(iframe, /<script>p\(\[\{"action":9,"error":\{[^}]*"code":40300/);
    const sse = await fetch(`http://127.0.0.1:${ts.port}/sse?channels=x&v=1.2&${K}`, { headers: { Origin: BAD } });
    assert.equal(sse.status, 403);
    const allowed = await jsonpRequest(ts.port, `/comet/connect?${K}&v=2&envelope=jsonp&callback=cb`);
    assert.equal(allowed.envelope?.statusCode, 200, 'no Referer: not a page, allowed');
  });

  it('config refuses origins that are not scheme://host[:port]', () => {
    for (const bad of ['*', 'good.example', 'http://good.example/', 'ftp://x', 'http://a b']) {
      assert.throws(
        () => buildApp({ id: 'a', keys: [{ key: 'a.k:secretsecret' }], allowedOrigins: [bad] }),
        ConfigError,
        bad,
      );
    }
    const app = buildApp({
      id: 'a',
      keys: [{ key: 'a.k:secretsecret' }],
      allowedOrigins: ['HTTP://Good.Example:8080'],
    });
    assert.deepEqual(app.allowedOrigins, ['http://good.example:8080']);
  });
});
