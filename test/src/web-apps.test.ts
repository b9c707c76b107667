/**
 * The chat demo's server side, over HTTP and with the official SDK: the web apps off unless
 * configured; the demo token endpoint (clientId rules as a table, tokens limited to the chat rooms,
 * the SDK using it as its authUrl); the static files (types, CSP, ETag, nothing outside the built
 * files). The admin dashboard's sign-in, token and feed are in admin-dashboard.test.ts.
 */
import { parseJson } from '@encke/protocol';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type * as Ably from 'ably';
import { createServer, type ServerOptions } from '@encke/server';
import { closeAll, connect } from './helpers/ably.js';
import { ADMIN_PASSWORD, CHAT_DIST, startChatServer } from './helpers/chat.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';
import { base, errorCode, sdk, signIn } from './helpers/web-apps.js';
import { responseAs, isTokenFields } from './helpers/json.js';

describe('web apps: off unless configured', () => {
  it('a plain server serves neither the chat, its tokens nor /admin', async () => {
    const ts = await startServer();
    try {
      for (const path of ['/', '/demo/token?clientId=Ana', '/demo/chat.js', '/admin', '/admin/token']) {
        const res = await fetch(base(ts) + path);
        assert.equal(res.status, 404, path);
        assert.equal(await errorCode(res), 40400, path);
      }
    } finally {
      await ts.close();
    }
  });

  it('refuses an admin password shorter than 16 characters, and a configured app named encke-admin', () => {
    assert.throws(() => startServerSync({ adminPassword: 'short' }), /adminPassword must be at least 16/);
    assert.throws(
      () =>
        startServerSync({
          adminPassword: ADMIN_PASSWORD,
          apps: [{ id: 'encke-admin', keys: [{ key: 'encke-admin.k:secret-secret' }] }],
        }),
      /Duplicate app id "encke-admin"/,
    );
  });
});

/** Makes a node (which validates its options) without listening. */
function startServerSync(options: ServerOptions): void {
  createServer({ host: '127.0.0.1', port: 0, ...options });
}

describe('chat demo: token endpoint', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startChatServer();
  });
  after(async () => {
    await ts.close();
  });

  const good = ['Ana', 'Ana Lima', 'José', '李雷', "O'Brien", 'a.b-c_d', 'x'.repeat(32), '  padded  '];
  for (const clientId of good) {
    it(`issues a chat token for clientId ${JSON.stringify(clientId)}`, async () => {
      const res = await fetch(`${base(ts)}/demo/token?clientId=${encodeURIComponent(clientId)}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const details = await responseAs(res, isTokenFields, 'TokenDetails');
      assert.equal(details.clientId, clientId.trim());
      assert.deepEqual(parseJson(details.capability), { 'chat:*': ['history', 'presence', 'publish', 'subscribe'] });
      assert.equal(details.keyName, KEYS.full.split(':')[0]);
      assert.equal(details.expires - details.issued, 3_600_000);
    });
  }

  const bad: [string, string][] = [
    ['missing', ''],
    ['empty', 'clientId='],
    ['blank', 'clientId=%20%20'],
    ['markup', 'clientId=%3Cscript%3E'],
    ['33 characters', `clientId=${'x'.repeat(33)}`],
    ['a leading dash', 'clientId=-ana'],
    ['a tab', 'clientId=a%09b'],
    ['a NUL', 'clientId=a%00b'],
    ['an emoji', 'clientId=ana%F0%9F%98%80'],
    ['the wildcard', 'clientId=*'],
  ];
  for (const [name, query] of bad) {
    it(`refuses a clientId with ${name} (40012)`, async () => {
      const res = await fetch(`${base(ts)}/demo/token?${query}`);
      assert.equal(res.status, 400);
      assert.equal(await errorCode(res), 40012);
    });
  }

  it('the SDK uses it as authUrl: chat rooms work, anything else is refused (40160)', async () => {
    const client = sdk(ts, { authUrl: `${base(ts)}/demo/token`, authParams: { clientId: 'Ana' }, clientId: 'Ana' });
    try {
      await connect(client);
      assert.equal(client.auth.clientId, 'Ana');
      const room = client.channels.get('chat:general');
      await room.attach();
      await room.presence.enter({ typing: false });
      await room.publish('chat', { text: 'hi' });
      const members = await room.presence.get();
      assert.deepEqual(
        members.map((m) => m.clientId),
        ['Ana'],
      );
      await assert.rejects(client.channels.get('private').attach(), (e: Ably.ErrorInfo) => e.code === 40160);
      await assert.rejects(client.channels.get('dashboard').attach(), (e: Ably.ErrorInfo) => e.code === 40160);
    } finally {
      await closeAll(client);
    }
  });

  it('issues from demoKey when given, and says so when that key does not exist', async () => {
    const limited = await startChatServer({ demoKey: KEYS.limited.split(':')[0] });
    const missing = await startChatServer({ demoKey: 'testapp.nope' });
    try {
      const res = await fetch(`${base(limited)}/demo/token?clientId=Ana`);
      assert.equal(res.status, 401); // testapp.limited has no chat:* rights: the intersection is empty
      assert.equal(await errorCode(res), 40160);
      const none = await fetch(`${base(missing)}/demo/token?clientId=Ana`);
      assert.equal(none.status, 503);
    } finally {
      await limited.close();
      await missing.close();
    }
  });
});

describe('chat demo: static files', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startChatServer();
  });
  after(async () => {
    await ts.close();
  });

  it('serves the page with a strict policy and its files with their types', async () => {
    const page = await fetch(`${base(ts)}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(
      page.headers.get('content-security-policy') ?? '',
      /default-src 'self'.*script-src 'self'.*frame-ancestors 'none'/,
    );
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.match(await page.text(), /<script type="module" src="\/demo\/chat.js">/);
    const js = await fetch(`${base(ts)}/demo/chat.js`);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.ok((await js.text()).length > 1000);
    assert.equal((await fetch(`${base(ts)}/demo/chat.css`)).headers.get('content-type'), 'text/css; charset=utf-8');
  });

  it('loads nothing from anywhere else (no CDN): every script, style and icon is its own', async () => {
    for (const path of ['/', '/demo/index.html']) {
      const html = await (await fetch(`${base(ts)}${path}`)).text();
      const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      assert.ok(refs.length >= 3, path);
      for (const ref of refs) assert.match(ref, /^(\/demo\/|#)/, `${path} refers to ${ref}`);
    }
    const cookie = await signIn(ts);
    for (const path of ['/admin', '/admin/login.html']) {
      const html = await (await fetch(`${base(ts)}${path}`, { headers: { cookie } })).text();
      for (const m of html.matchAll(/(?:src|href|action)="([^"]+)"/g))
        assert.match(m[1]!, /^\/admin(\/|$)/, `${path} refers to ${m[1]}`);
    }
  });

  it('answers 304 to a matching ETag', async () => {
    const first = await fetch(`${base(ts)}/demo/chat.js`);
    const etag = first.headers.get('etag') ?? '';
    assert.match(etag, /^"[A-Za-z0-9_-]{22}"$/);
    const again = await fetch(`${base(ts)}/demo/chat.js`, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
  });

  for (const path of [
    '/demo/nope.js',
    '/demo/..%2Fpackage.json',
    '/demo/%2e%2e%2fbuild.mjs',
    '/demo/.tsbuildinfo',
    '/demo/chat.js%00.html',
    '/demo/sub/chat.js',
  ]) {
    it(`serves nothing but the built files: ${path} is 404`, async () => {
      const res = await fetch(`${base(ts)}${path}`);
      assert.equal(res.status, 404);
    });
  }

  it('says what is missing when the chat is not built, and serves everything else', async () => {
    const unbuilt = await startChatServer({ demoAssets: `${CHAT_DIST}-missing` });
    try {
      const res = await fetch(`${base(unbuilt)}/`);
      assert.equal(res.status, 503);
      assert.match(res.headers.get('x-ably-errormessage') ?? '', /chat demo is not available.*npm run build/);
      assert.equal((await fetch(`${base(unbuilt)}/time`)).status, 200);
    } finally {
      await unbuilt.close();
    }
  });
});
