/**
 * Every comet technique in Chromium, cross-origin, through small test pages (test/pages/
 * comet-client.js) that nobody else wrote either: fetch streaming, plain polling, Server-Sent
 * Events (the browser's own EventSource as the downstream of a comet connection), the
 * forever-iframe with postMessage, multipart/x-mixed-replace. Each connects, attaches, receives,
 * publishes with an ACK, and keeps everything in order across server-side recycles of its
 * stream (short maxCometStreamDuration, a tiny iframe byte budget). SSE also across cuts of the
 * network: the browser's own reconnect with Last-Event-ID loses and repeats nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { rest } from './helpers/ably.js';
import { useBrowserFixture } from './helpers/browser.js';
import { KillableProxy } from './helpers/proxy.js';
import { KEYS } from './helpers/server.js';

interface PageState {
  key: string | null;
  connectionId: string | null;
  connects: number;
  recvs: number;
  channels: Record<string, string | null>;
  received: Record<string, string[]>;
  acks: number[];
  errors: unknown[];
}

type CometWindow = {
  comet: {
    start(server: string, auth: string, technique: string): void;
    attach(channel: string): Promise<number>;
    publish(channel: string, name: string): Promise<number>;
    stop(): void;
    state(): PageState;
  };
};

const AUTH = `key=${encodeURIComponent(KEYS.full)}`;

async function state(page: Page): Promise<PageState> {
  return page.evaluate(() => (globalThis as unknown as CometWindow).comet.state());
}

async function until(
  page: Page,
  what: string,
  ready: (s: PageState) => boolean,
  timeoutMs = 15_000,
): Promise<PageState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await state(page);
    if (ready(s)) return s;
    if (Date.now() > deadline)
      throw new Error(`no ${what} within ${timeoutMs} ms: ${JSON.stringify(s).slice(0, 1500)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const TECHNIQUES = ['fetch', 'poll', 'sse', 'iframe', 'multipart'] as const;

describe('comet techniques in Chromium, cross-origin', () => {
  // Ticks every 500 ms (maxIdleInterval / 3), so streams are recycled at about 1.2 s.
  const f = useBrowserFixture({
    maxIdleInterval: 1500,
    maxCometStreamDuration: 1200,
    maxIframeBytes: 3000,
    cometSseRetry: 200,
  });

  async function openPage(server: string, technique: string): Promise<Page> {
    const page = await f.browser.open(f.pages.url('/pages/comet-techniques.html'));
    await page.evaluate(([s, a, t]) => (globalThis as unknown as CometWindow).comet.start(s, a, t), [
      server,
      AUTH,
      technique,
    ] as const);
    await until(page, 'CONNECTED', (s) => s.key !== null);
    return page;
  }

  /** Runs `body` on a page connected with `technique`; prints the page's log if it fails. */
  async function onPage(server: string, technique: string, body: (page: Page) => Promise<void>): Promise<void> {
    const page = await openPage(server, technique);
    try {
      await body(page);
    } catch (err) {
      console.log(f.browser.log.join('\n'));
      throw err;
    } finally {
      await page.evaluate(() => (globalThis as unknown as CometWindow).comet.stop());
      await page.close();
    }
  }

  for (const technique of TECHNIQUES) {
    it(`${technique}: receives, publishes with an ACK, and keeps order across recycles of its stream`, async () => {
      const channel = `tech-${technique}`;
      const publisher = rest(f.ts, 'json').channels.get(channel);
      await onPage(`http://127.0.0.1:${f.ts.port}`, technique, async (page) => {
        assert.equal(await page.evaluate((c) => (globalThis as unknown as CometWindow).comet.attach(c), channel), 204);
        await until(page, 'ATTACHED', (s) => typeof s.channels[channel] === 'string');
        for (let i = 0; i < 3; i++) await publisher.publish(`m${i}`, 'x');
        await until(page, '3 messages', (s) => (s.received[channel]?.length ?? 0) >= 3);
        assert.equal(
          await page.evaluate((c) => (globalThis as unknown as CometWindow).comet.publish(c, 'from-page'), channel),
          204,
        );
        await until(page, 'the ACK', (s) => s.acks.includes(0));
        // The stream is recycled (1.2 s, or the iframe's 3 KB budget) and the client opens the next.
        await until(page, 'a recycled stream', (x) => x.recvs >= 2);
        for (let i = 3; i < 10; i++) {
          await publisher.publish(`m${i}`, 'y'.repeat(300));
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
        const s = await until(page, 'every message', (x) => (x.received[channel]?.length ?? 0) >= 11);
        await new Promise((resolve) => setTimeout(resolve, 300)); // room for a duplicate to show
        const names = (await state(page)).received[channel];
        assert.deepEqual(names, ['m0', 'm1', 'm2', 'from-page', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']);
        assert.equal(s.connects, 1, 'one connection, never resumed');
        assert.deepEqual(s.errors, []);
        const history = await publisher.history({ direction: 'forwards' });
        assert.ok(history.items.some((m) => m.name === 'from-page'));
      });
    });
  }

  it('sse: across two cuts of the network the browser reconnects by itself; every message once, in order', async () => {
    const proxy = await KillableProxy.start(f.ts.port);
    const channel = 'tech-sse-cut';
    const publisher = rest(f.ts, 'json').channels.get(channel);
    await onPage(`http://127.0.0.1:${proxy.port}`, 'sse', async (page) => {
      await page.evaluate((c) => (globalThis as unknown as CometWindow).comet.attach(c), channel);
      await until(page, 'ATTACHED', (s) => typeof s.channels[channel] === 'string');
      for (let i = 0; i < 3; i++) await publisher.publish(`m${i}`, 'x');
      await until(page, '3 messages', (s) => (s.received[channel]?.length ?? 0) >= 3);
      for (let cut = 1; cut <= 2; cut++) {
        proxy.killAll();
        for (let i = 0; i < 3; i++) await publisher.publish(`m${cut * 3 + i}`, 'x');
        await until(page, `messages after cut ${cut}`, (s) => (s.received[channel]?.length ?? 0) >= cut * 3 + 3);
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      const s = await state(page);
      assert.deepEqual(s.received[channel], ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8']);
      assert.equal(proxy.kills, 2);
    }).finally(() => proxy.close());
  });

  it('preflights are cached: three JSON POSTs from a page of another origin, one OPTIONS', async () => {
    const proxy = await KillableProxy.start(f.ts.port);
    const page = await f.browser.open(f.pages.url('/pages/comet-techniques.html'));
    try {
      const url = `http://127.0.0.1:${proxy.port}/channels/preflight/messages?${AUTH}`;
      const statuses = await page.evaluate(async (u) => {
        const out: number[] = [];
        for (let i = 0; i < 3; i++) {
          const res = await fetch(u, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ name: `p${i}`, data: 'x' }),
          });
          out.push(res.status);
        }
        return out;
      }, url);
      assert.deepEqual(statuses, [201, 201, 201]);
      assert.equal(proxy.sent.match(/OPTIONS \/channels\//g)?.length, 1, 'one preflight');
      assert.equal(proxy.sent.match(/POST \/channels\//g)?.length, 3);
    } finally {
      await page.close();
      await proxy.close();
    }
  });
});
