/**
 * The browser's own EventSource (Chromium, cross-origin) on Ably's SSE API: messages arrive as
 * events, and across cuts of the stream (every socket reset, as a network drop) the browser's
 * automatic reconnect with Last-Event-ID resumes with every message once, in order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { rest } from './helpers/ably.js';
import { useBrowserFixture } from './helpers/browser.js';
import { jsonObject, stringField } from './helpers/json.js';
import { KillableProxy } from './helpers/proxy.js';
import { KEYS } from './helpers/server.js';

interface Recorded {
  events: { type: string; data: string; lastEventId: string }[];
  opens: number;
}

type SseWindow = { sse: Recorded & { open(url: string): void; close(): void } };

async function recorded(page: Page): Promise<Recorded> {
  return page.evaluate(() => {
    const s = (globalThis as unknown as SseWindow).sse;
    return { events: s.events, opens: s.opens };
  });
}

async function until(page: Page, what: string, ready: (r: Recorded) => boolean, timeoutMs = 15_000): Promise<Recorded> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await recorded(page);
    if (ready(r)) return r;
    if (Date.now() > deadline)
      throw new Error(`no ${what} within ${timeoutMs} ms: ${JSON.stringify(r).slice(0, 1000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('native EventSource on /sse in Chromium, cross-origin', () => {
  const f = useBrowserFixture();

  it('every message once and in order across two cuts of the stream', async () => {
    const proxy = await KillableProxy.start(f.ts.port);
    const page = await f.browser.open(f.pages.url('/pages/eventsource.html'));
    const channel = 'es-cut';
    const publisher = rest(f.ts, 'json').channels.get(channel);
    const publish = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) await publisher.publish(`m${i}`, String(i));
    };
    try {
      const url = `http://127.0.0.1:${proxy.port}/sse?channels=${channel}&v=1.2&key=${encodeURIComponent(KEYS.full)}`;
      await page.evaluate((u) => (globalThis as unknown as SseWindow).sse.open(u), url);
      await until(page, 'open', (r) => r.opens === 1);
      await publish(0, 4);
      await until(page, '4 messages', (r) => r.events.length >= 4);
      for (let cut = 1; cut <= 2; cut++) {
        proxy.killAll();
        await publish(cut * 4, cut * 4 + 4); // while the browser waits to reconnect
        await until(page, `reconnect ${cut}`, (r) => r.opens === cut + 1);
      }
      await publish(12, 14);
      const r = await until(page, '14 messages', (x) => x.events.length >= 14);
      await new Promise((resolve) => setTimeout(resolve, 200)); // room for a duplicate to show
      const names = (await recorded(page)).events.map((e) => stringField(jsonObject(e.data), 'name'));
      assert.deepEqual(
        names,
        Array.from({ length: 14 }, (_, i) => `m${i}`),
      );
      assert.ok(r.events.every((e) => e.type === 'message' && e.lastEventId !== ''));
      assert.equal(proxy.kills, 2);
    } catch (err) {
      console.log(f.browser.log.join('\n'));
      throw err;
    } finally {
      await page.close();
      await proxy.close();
    }
  });
});
