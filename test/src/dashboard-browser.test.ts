/**
 * The admin dashboard in Chromium: it refuses everything without the admin password, and once
 * signed in (through the ready link the dev server prints) it shows the node's connections as the
 * server counts them and a message rate that moves while the chat runs. Screenshots of the
 * dashboard empty and busy go to docs/screenshots/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ADMIN_PASSWORD,
  ChatPage,
  dashboardConnections,
  dashboardRates,
  metricsConnections,
  metricSamples,
  useBrowser,
  openDashboard,
  CHAT_DIST,
  screenshotPath,
  startChatServer,
  type ProbeWindow,
} from './helpers/chat.js';
import { startCluster } from './helpers/cluster.js';
import { TestRedis } from './helpers/redis.js';
import type { TestServer } from './helpers/server.js';

/** One Chromium for this file. */
const browser = useBrowser();

/** Messages in per second the busy screenshot waits for (the chat sends about 5, the feed 1). */
const BUSY_RATE = 3;

/** Waits until the dashboard shows `n` connections. */
async function waitConnections(page: import('playwright-core').Page, n: number): Promise<void> {
  await page.waitForFunction(
    (want) => (globalThis as unknown as ProbeWindow).probes.text('[data-testid="connections-total"]') === String(want),
    n,
    { timeout: 15_000 },
  );
}

async function tokenStatus(page: import('playwright-core').Page): Promise<number> {
  return page.evaluate(async () => (await fetch('/admin/token')).status);
}

describe('admin dashboard: access', () => {
  let server: TestServer;
  before(async () => {
    server = await startChatServer();
    await browser().context.clearCookies();
  });
  after(async () => {
    await browser().context.clearCookies();
    await server.close();
  });

  it('refuses without the admin password: the sign-in page, no data, no token', async () => {
    const page = await browser().context.newPage();
    try {
      const res = await page.goto(`http://127.0.0.1:${server.port}/admin`);
      assert.equal(res?.status(), 401);
      assert.equal(await page.locator('#password').count(), 1);
      assert.equal(await page.locator('[data-testid="connections-total"]').count(), 0);
      assert.equal(await tokenStatus(page), 401);
      await page.fill('#password', 'not-the-admin-password');
      await page.press('#password', 'Enter');
      await page.waitForFunction(() =>
        ((globalThis as unknown as ProbeWindow).probes.text('#login-error') ?? '').includes('Wrong admin password'),
      );
      assert.equal(await tokenStatus(page), 401);
      await page.goto(`http://127.0.0.1:${server.port}/admin`);
      await page.setViewportSize({ width: 1280, height: 720 });
      await page.screenshot({ path: screenshotPath('dashboard-sign-in.png') });
    } finally {
      await page.close();
    }
  });

  it('signs in through the ready link (password in the fragment, removed from the address), and out again', async () => {
    const page = await openDashboard(browser(), server);
    try {
      assert.equal(new URL(page.url()).hash, '');
      assert.equal(await tokenStatus(page), 200);
      await page.click('text=Log out');
      await page.waitForSelector('#password');
      assert.equal(await tokenStatus(page), 401);
    } finally {
      await page.close();
    }
  });

  it('signs in with the form', async () => {
    const page = await browser().open(`http://127.0.0.1:${server.port}/admin`);
    try {
      await page.fill('#password', ADMIN_PASSWORD);
      await page.press('#password', 'Enter');
      await page.waitForSelector('#feed[data-state="connected"]', { timeout: 15_000 });
    } finally {
      await page.close();
    }
  });
});

describe('admin dashboard: live figures while the chat runs', () => {
  let server: TestServer;
  before(async () => {
    server = await startChatServer();
  });
  after(async () => {
    await server.close();
  });

  it('shows the connections the server counts and a message rate that moves', async () => {
    const dash = await openDashboard(browser(), server);
    const people: ChatPage[] = [];
    try {
      await dash.setViewportSize({ width: 1280, height: 900 });
      await waitConnections(dash, 1); // itself
      assert.equal(server.server.inspect.connections, 1);
      assert.equal(await metricsConnections(server), 1);
      await new Promise((r) => setTimeout(r, 3000)); // a few seconds of chart
      await dash.screenshot({ path: screenshotPath('dashboard-empty.png'), fullPage: true });

      for (const name of ['Ana', 'Bo', 'Cy', 'Di', 'Ed'])
        people.push(await ChatPage.join(browser(), server, name, undefined, { room: 'general' }));
      await waitConnections(dash, 6);
      assert.equal(server.server.inspect.connections, 6);
      assert.equal(await metricsConnections(server), 6);

      const idle = await dashboardRates(dash);
      const charts: string[] = [];
      let busiest = { in: 0, out: 0 };
      let shot = false;
      for (let i = 0; i < 40; i++) {
        await people[i % people.length]!.send(`message ${i}`);
        if (i % 4 === 3) {
          const r = await dashboardRates(dash);
          busiest = { in: Math.max(busiest.in, r.in), out: Math.max(busiest.out, r.out) };
          if (i % 8 === 7) charts.push((await dash.getAttribute('#chart polyline[data-series="in"]', 'points')) ?? '');
          // The README's "busy" picture: taken once the figures show the chat (not between two of its snapshots).
          if (!shot && i >= 16 && r.in >= BUSY_RATE) {
            await dash.screenshot({ path: screenshotPath('dashboard-busy.png'), fullPage: true });
            shot = true;
          }
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(shot, `the dashboard never showed ${BUSY_RATE} messages in per second: busiest ${busiest.in}`);
      assert.match((await dash.textContent('#channels')) ?? '', /chat:general/);
      assert.ok(busiest.in > idle.in + 1, `messages in/s never rose: idle ${idle.in}, busiest ${busiest.in}`);
      assert.ok(busiest.out > busiest.in, `each message goes to 5 subscribers: out ${busiest.out} ≤ in ${busiest.in}`);
      assert.ok(new Set(charts).size > 1, 'the chart did not move');

      await people.pop()!.close();
      await people.pop()!.close();
      await waitConnections(dash, 4);
      assert.equal(await dashboardConnections(dash), server.server.inspect.connections);
      assert.equal(await metricsConnections(server), 4);
    } finally {
      for (const p of people) await p.close();
      await dash.close();
    }
  });
});

/** A table row as the page function sees it (the test project has no DOM types). */
interface Row {
  querySelectorAll(selector: 'td'): Iterable<{ readonly textContent: string | null }>;
}

/** The rows of the dashboard's errors table: code, errors in the last 5 minutes, total. */
async function errorRows(
  page: import('playwright-core').Page,
): Promise<{ code: string; recent: number; total: number }[]> {
  return page.$$eval('#errors tbody tr', (rows) =>
    rows
      .map((tr: Row) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''))
      .filter((cells) => cells.length === 5)
      .map(([code, , recent, total]) => ({ code: code!, recent: Number(recent), total: Number(total) })),
  );
}

describe('admin dashboard: recent errors by code', () => {
  let server: TestServer;
  before(async () => {
    server = await startChatServer();
  });
  after(async () => {
    await server.close();
  });

  it('lists every error sent to a client by code, with the totals /metrics exports', async () => {
    const dash = await openDashboard(browser(), server);
    const people: ChatPage[] = [];
    try {
      await dash.setViewportSize({ width: 1280, height: 900 });
      // Rates (and error increases) need two snapshots of the node.
      await dash.waitForSelector('#chart polyline[data-series="in"]', { timeout: 15_000 });
      assert.deepEqual(await errorRows(dash), []);
      for (const name of ['Ana', 'Bo'])
        people.push(await ChatPage.join(browser(), server, name, undefined, { room: 'general' }));
      const base = `http://127.0.0.1:${server.port}`;
      const wrongKey = `Basic ${Buffer.from('testapp.full:not-the-secret').toString('base64')}`;
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${base}/channels/chat:general/messages`, {
          method: 'POST',
          headers: { authorization: wrongKey, 'content-type': 'application/json' },
          body: '{"name":"x","data":"y"}',
        });
        assert.equal(res.status, 401);
      }
      for (const id of ['', '-starts-with-a-dash'])
        assert.equal((await fetch(`${base}/demo/token?clientId=${encodeURIComponent(id)}`)).status, 400);
      assert.equal((await fetch(`${base}/no-such-page`)).status, 404);
      const want = { '40101': 3, '40012': 2, '40400': 1 };
      await dash
        .waitForFunction(
          (n) => (globalThis as unknown as ProbeWindow).probes.text('[data-testid="errors-total"]') === String(n),
          6,
          { timeout: 15_000 },
        )
        .catch(async () => {
          throw new Error(`errors shown: ${JSON.stringify(await errorRows(dash))}`);
        });
      const rows = await errorRows(dash);
      const exported = metricSamples(await (await fetch(`${base}/metrics`)).text(), 'encke_errors_total');
      assert.deepEqual(Object.fromEntries(rows.map((r) => [r.code, r.recent])), want);
      for (const r of rows) assert.equal(exported.get(`{code="${r.code}"}`), r.total, `code ${r.code}`);
      assert.equal(rows.length, exported.size, 'the dashboard lists every code /metrics has');
      assert.match((await dash.textContent('#errors')) ?? '', /Invalid credentials/);
      await dash.screenshot({ path: screenshotPath('dashboard-errors.png'), fullPage: true });
    } finally {
      for (const p of people) await p.close();
      await dash.close();
    }
  });
});

describe('admin dashboard: a cluster', () => {
  const redis = TestRedis.perSuite();

  it('a dashboard on one node hears every node, with its load; a node that stops turns silent', async () => {
    const cluster = await startCluster(redis, 2, {
      adminPassword: ADMIN_PASSWORD,
      demo: true,
      demoAssets: CHAT_DIST,
      adminPublishInterval: 500,
    });
    const [first, second] = cluster.ports as [number, number];
    const dash = await openDashboard(browser(), { port: first });
    const chat = await ChatPage.join(browser(), { port: second }, 'Ana', undefined, { room: 'cluster' });
    try {
      await dash
        .waitForFunction(() => (globalThis as unknown as ProbeWindow).probes.count('#nodes .badge.live') === 2, null, {
          timeout: 15_000,
        })
        .catch(async () => {
          throw new Error(`nodes: ${await dash.textContent('#nodes')}`);
        });
      const nodes = (await dash.textContent('#nodes')) ?? '';
      for (const node of cluster.nodes)
        assert.ok(nodes.includes(node.options.serverId), `${node.options.serverId} missing from ${nodes}`);
      await waitConnections(dash, 2); // the dashboard on one node, Ana on the other
      await chat.close();
      await cluster.nodes[1]!.close();
      await dash.waitForFunction(
        () => (globalThis as unknown as ProbeWindow).probes.count('#nodes .badge.silent') === 1,
        null,
        { timeout: 15_000 },
      );
      assert.equal(await dash.locator('#nodes .badge.live').count(), 1);
      await waitConnections(dash, 1);
    } finally {
      await chat.close();
      await dash.close();
      await cluster.close();
    }
  });
});
