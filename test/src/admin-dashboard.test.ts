/**
 * The admin dashboard's server side, over HTTP and with the official SDK: the admin sign-in (bad
 * input as a table, throttling, the cookie's attributes, tampered and expired sessions); the
 * dashboard token (subscribe to the feed only) and the feed itself (the node's connections, apps and
 * keys, never a secret), with the same numbers as /metrics. The chat demo's side, and both apps
 * being off unless configured, are in web-apps.test.ts.
 */
import { dataOf } from './helpers/field.js';
import { isArrayValue, isPlainObject, parseJson } from '@encke/protocol';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type * as Ably from 'ably';
import { FakeClock } from '@encke/server/internal';
import { closeAll, connect } from './helpers/ably.js';
import { ADMIN_PASSWORD, metricSamples, startChatServer } from './helpers/chat.js';
import { KEYS, TEST_APPS, type TestServer } from './helpers/server.js';
import { base, errorCode, sdk, signIn } from './helpers/web-apps.js';
import { responseAs, isTokenFields } from './helpers/json.js';

/** What these tests read of a dashboard snapshot (the feed's `data`, which the SDK types `any`). */
interface Snapshot {
  version: number;
  node: { id: string };
  metrics: {
    connections: Record<string, Record<string, number>>;
    messagesIn: number;
    messagesOut: number;
    errors: Record<string, number>;
    faults: Record<string, number>;
  };
  apps: { id: string }[];
  channels: { listed: { name: string; presenceMembers: number | null }[] };
}

const isRecordOf =
  <T>(is: (v: unknown) => v is T) =>
  (v: unknown): v is Record<string, T> =>
    isPlainObject(v) && Object.values(v).every(is);
const isNumber = (v: unknown): v is number => typeof v === 'number';

function isSnapshot(v: unknown): v is Snapshot {
  if (!isPlainObject(v) || typeof v.version !== 'number') return false;
  const { node, apps, channels } = v;
  const m = v.metrics;
  return (
    isPlainObject(node) &&
    typeof node.id === 'string' &&
    isPlainObject(m) &&
    isRecordOf(isRecordOf(isNumber))(m.connections) &&
    isNumber(m.messagesIn) &&
    isNumber(m.messagesOut) &&
    isRecordOf(isNumber)(m.errors) &&
    isRecordOf(isNumber)(m.faults) &&
    isArrayValue(apps) &&
    apps.every((a) => isPlainObject(a) && typeof a.id === 'string') &&
    isPlainObject(channels) &&
    isArrayValue(channels.listed) &&
    channels.listed.every(
      (c) =>
        isPlainObject(c) &&
        typeof c.name === 'string' &&
        (c.presenceMembers === null || typeof c.presenceMembers === 'number'),
    )
  );
}

/** A feed message's snapshot, checked (the test fails saying so when its shape is wrong). */
function snapshotOf(m: Ably.Message | undefined): Snapshot {
  const data = dataOf(m);
  assert.ok(isSnapshot(data), `not a dashboard snapshot: ${JSON.stringify(data)}`);
  return data;
}

/** The SDK as the dashboard page uses its feed: tokens from /admin/token with the session cookie. */
function dashboardViewer(ts: TestServer, cookie: string, options: Ably.ClientOptions = {}): Ably.Realtime {
  const token = (): Promise<Ably.TokenDetails> =>
    fetch(`${base(ts)}/admin/token`, { headers: { cookie } }).then((r) => responseAs(r, isTokenFields, 'TokenDetails'));
  return sdk(ts, {
    ...options,
    authCallback: (_params, done) =>
      void token().then(
        (d) => done(null, d),
        (e: Error) => done(e.message, null),
      ),
  });
}

describe('admin dashboard: sign-in and sessions', () => {
  let ts: TestServer;
  let clock: FakeClock;
  before(async () => {
    clock = new FakeClock(Date.now());
    ts = await startChatServer({ clock });
  });
  after(async () => {
    await ts.close();
  });

  it('GET /admin without a session is the sign-in page (401), never the dashboard', async () => {
    const res = await fetch(`${base(ts)}/admin`);
    assert.equal(res.status, 401);
    const html = await res.text();
    assert.match(html, /id="password"/);
    assert.doesNotMatch(html, /connections-total/);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });

  it('a correct password sets an HttpOnly, SameSite=Strict cookie for /admin; with it, the dashboard and a token', async () => {
    const form = await fetch(`${base(ts)}/admin/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `password=${encodeURIComponent(ADMIN_PASSWORD)}`,
    });
    assert.equal(form.status, 303);
    assert.equal(form.headers.get('location'), '/admin');
    const setCookie = form.headers.get('set-cookie') ?? '';
    assert.match(
      setCookie,
      /^encke_admin=\d+\.[A-Za-z0-9_-]{43}; Path=\/admin; Max-Age=43200; HttpOnly; SameSite=Strict$/,
    );
    const cookie = setCookie.split(';')[0]!;
    const page = await fetch(`${base(ts)}/admin`, { headers: { cookie } });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /connections-total/);
    const token = await fetch(`${base(ts)}/admin/token`, { headers: { cookie } });
    assert.equal(token.status, 200);
    const details = await responseAs(token, isTokenFields, 'TokenDetails');
    assert.equal(details.keyName, 'encke-admin.dashboard');
    assert.deepEqual(parseJson(details.capability), { dashboard: ['subscribe'] });
  });

  const badLogins: [string, RequestInit, number, number][] = [
    [
      'a wrong password',
      { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ password: 'wrong-password-00000' }) },
      401,
      40101,
    ],
    ['an empty body', { headers: { 'Content-Type': 'application/json' }, body: '' }, 400, 40001],
    ['JSON that is not JSON', { headers: { 'Content-Type': 'application/json' }, body: '{password' }, 400, 40001],
    ['a JSON array', { headers: { 'Content-Type': 'application/json' }, body: '["x"]' }, 400, 40001],
    [
      'a password that is not a string',
      { headers: { 'Content-Type': 'application/json' }, body: '{"password":123}' },
      400,
      40001,
    ],
    [
      'a form without a password',
      { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'user=admin' },
      400,
      40001,
    ],
    ['text/plain', { headers: { 'Content-Type': 'text/plain' }, body: ADMIN_PASSWORD }, 415, 40000],
    [
      'a body past 4 KiB',
      { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ password: 'x'.repeat(5000) }) },
      413,
      40009,
    ],
  ];
  for (const [name, init, status, code] of badLogins) {
    it(`refuses a login with ${name} (${code})`, async () => {
      const res = await fetch(`${base(ts)}/admin/login`, { method: 'POST', ...init });
      assert.equal(res.status, status);
      assert.equal(await errorCode(res), code);
      assert.equal(res.headers.get('set-cookie'), null);
    });
  }

  const badCookies: [string, (valid: string) => string][] = [
    ['no cookie', () => ''],
    ['a tampered MAC', (c) => c.slice(0, -2) + (c.endsWith('AA') ? 'BB' : 'AA')],
    ['a later expiry under the old MAC', (c) => c.replace(/=(\d+)\./, (_m, e: string) => `=${Number(e) + 1000}.`)],
    ['garbage', () => 'encke_admin=not-a-session'],
    ['another password’s session', () => ''],
  ];
  for (const [name, make] of badCookies) {
    it(`refuses /admin/token with ${name} (401)`, async () => {
      const valid = name.startsWith('another') ? '' : await signIn(ts);
      const cookie = name.startsWith('another') ? await anotherPasswordsCookie() : make(valid);
      const res = await fetch(`${base(ts)}/admin/token`, { headers: cookie ? { cookie } : {} });
      assert.equal(res.status, 401);
      assert.equal(await errorCode(res), 40100);
    });
  }

  it('a session ends after 12 hours', async () => {
    const cookie = await signIn(ts);
    assert.equal((await fetch(`${base(ts)}/admin/token`, { headers: { cookie } })).status, 200);
    clock.advance(12 * 3_600_000 + 1);
    assert.equal((await fetch(`${base(ts)}/admin/token`, { headers: { cookie } })).status, 401);
  });

  it('after 10 wrong passwords in 10 s every login is refused (42910) until the window passes', async () => {
    clock.advance(60_000);
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${base(ts)}/admin/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ password: `guess-${i}` }),
      });
      assert.equal(res.status, 401);
    }
    const locked = await fetch(`${base(ts)}/admin/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ password: ADMIN_PASSWORD }),
    });
    assert.equal(locked.status, 429);
    assert.equal(await errorCode(locked), 42910);
    clock.advance(10_001);
    await signIn(ts);
  });
});

/** A valid session cookie of a server with another admin password. */
async function anotherPasswordsCookie(): Promise<string> {
  const other = await startChatServer({ adminPassword: 'another-admin-password-1' });
  try {
    return await signIn(other, 'another-admin-password-1');
  } finally {
    await other.close();
  }
}

describe('admin dashboard: the feed', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startChatServer();
  });
  after(async () => {
    await ts.close();
  });

  it('a dashboard token hears snapshots of this node (its connections, apps and keys, no secret) and may do nothing else', async () => {
    const cookie = await signIn(ts);
    const viewer = dashboardViewer(ts, cookie);
    const chatter = sdk(ts, { key: KEYS.full, clientId: 'Ana' });
    try {
      await connect(viewer);
      await connect(chatter);
      await chatter.channels.get('chat:general').presence.enter();
      const feed = viewer.channels.get('dashboard');
      const snapshots: Ably.Message[] = [];
      await feed.subscribe('snapshot', (m) => void snapshots.push(m));
      const deadline = Date.now() + 10_000;
      while (snapshots.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const last = snapshotOf(snapshots.at(-1));
      assert.equal(last.version, 1);
      assert.equal(last.node.id, ts.server.options.serverId);
      assert.equal(
        Object.values(last.metrics.connections.web_socket ?? {}).reduce((a, b) => a + b, 0),
        ts.server.inspect.connections,
      );
      assert.deepEqual(
        last.apps.map((a) => a.id),
        TEST_APPS.map((a) => a.id),
      );
      assert.ok(last.channels.listed.some((c) => c.name === 'chat:general' && c.presenceMembers === 1));
      const text = JSON.stringify(snapshots.map((s) => dataOf(s)));
      for (const key of Object.values(KEYS))
        assert.ok(!text.includes(key.split(':')[1]!), 'a key secret is in the feed');
      assert.ok(!text.includes(ADMIN_PASSWORD));
      await assert.rejects(feed.publish('snapshot', {}), (e: Ably.ErrorInfo) => e.code === 40160);
      await assert.rejects(viewer.channels.get('other').attach(), (e: Ably.ErrorInfo) => e.code === 40160);
    } finally {
      await closeAll(viewer, chatter);
    }
  });
});

describe('admin dashboard: the same numbers as /metrics', () => {
  it('connections by transport and format, messages in and out, errors by code: as /metrics reads them', async () => {
    const clock = new FakeClock(Date.now());
    const ts = await startChatServer({ clock });
    const cookie = await signIn(ts);
    const viewer = dashboardViewer(ts, cookie, { useBinaryProtocol: false });
    const chatter = sdk(ts, { key: KEYS.full, useBinaryProtocol: true });
    try {
      await connect(viewer);
      await connect(chatter);
      const room = chatter.channels.get('chat:numbers');
      const echoed: Ably.Message[] = [];
      await room.subscribe((m) => void echoed.push(m));
      for (let i = 0; i < 5; i++) await room.publish('n', `m${i}`);
      while (echoed.length < 5) await new Promise((r) => setTimeout(r, 20));
      for (let i = 0; i < 3; i++) assert.equal((await fetch(`${base(ts)}/no-such-thing`)).status, 404);
      const snapshots: Ably.Message[] = [];
      await viewer.channels.get('dashboard').subscribe('snapshot', (m) => void snapshots.push(m));
      clock.advance(1000); // one snapshot (the publisher runs on the server's clock)
      while (snapshots.length < 1) await new Promise((r) => setTimeout(r, 20));
      const snap = snapshotOf(snapshots[0]);
      const exposition = await (await fetch(`${base(ts)}/metrics`)).text();

      const connections = metricSamples(exposition, 'encke_connections');
      for (const [transport, byFormat] of Object.entries(snap.metrics.connections)) {
        for (const [format, n] of Object.entries(byFormat))
          assert.equal(connections.get(`{transport="${transport}",format="${format}"}`), n, `${transport}/${format}`);
      }
      assert.equal(snap.metrics.connections.web_socket?.json, 1); // the viewer
      assert.equal(snap.metrics.connections.web_socket?.msgpack, 1); // the chatter
      assert.equal(snap.metrics.errors['40400'], 3);
      assert.equal(metricSamples(exposition, 'encke_errors_total').get('{code="40400"}'), 3);
      const faults = metricSamples(exposition, 'encke_faults_total');
      assert.ok(Object.keys(snap.metrics.faults).length > 0, 'fault kinds are listed (0 included)');
      for (const [kind, n] of Object.entries(snap.metrics.faults))
        assert.equal(faults.get(`{kind="${kind}"}`), n, `faults ${kind}`);
      // /metrics was read after the snapshot's own publish: one more in, and one more out (to the viewer).
      const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
      assert.equal(sum(metricSamples(exposition, 'encke_messages_in_total')), snap.metrics.messagesIn + 1);
      assert.equal(sum(metricSamples(exposition, 'encke_messages_out_total')), snap.metrics.messagesOut + 1);
      assert.equal(snap.metrics.messagesIn, 5);
    } finally {
      await closeAll(viewer, chatter);
      await ts.close();
    }
  });
});
