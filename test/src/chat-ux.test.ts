/**
 * The chat demo as a person uses it, in Chromium: delivery state (pending while the network is
 * gone, then acknowledged; failed when the server refuses or the connection gives up, with a retry
 * that sends the same message once), keyboard-only use, and the screenshots the README shows
 * (desktop and phone), written to docs/screenshots/.
 */
import { dataOf, objectOf } from './helpers/field.js';
import assert from 'node:assert/strict';
import * as Ably from 'ably';
import { after, before, describe, it } from 'node:test';
import { ChatPage, useBrowser, screenshotPath, startChatServer, type ProbeWindow } from './helpers/chat.js';
import { KEYS } from './helpers/server.js';

/** One Chromium for this file. */
const browser = useBrowser();

/** How many rows of `page` hold exactly `text`. */
async function count(page: ChatPage, text: string): Promise<number> {
  return (await page.messages()).filter((t) => t === text).length;
}

describe('chat demo: delivery state', () => {
  it('pending while the network is gone, acknowledged once it is back, delivered once', async () => {
    const server = await startChatServer();
    const ana = await ChatPage.join(browser(), server, 'Ana', undefined, { room: 'delivery', cuttable: true });
    const bo = await ChatPage.join(browser(), server, 'Bo', undefined, { room: 'delivery' });
    try {
      ana.cutNetwork();
      await ana.page.waitForSelector('#conn[data-state="disconnected"]', { timeout: 10_000 });
      const id = await ana.send('sent while offline');
      assert.equal(await ana.delivery(id), 'pending');
      assert.equal(await ana.page.textContent(`.message[data-id="${id}"] .delivery`), 'Sending…');
      ana.proxy!.unblock();
      await ana.waitDelivery(id, 'acknowledged', 15_000);
      await bo.waitMessage('sent while offline');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await count(bo, 'sent while offline'), 1);
    } finally {
      await ana.close();
      await bo.close();
      await server.close();
    }
  });

  it('failed when the server refuses the message (NACK), with the reason; retry fails the same way', async () => {
    const server = await startChatServer({ maxMessageSize: 2048 });
    const ana = await ChatPage.join(browser(), server, 'Ana', undefined, { room: 'nack' });
    const bo = await ChatPage.join(browser(), server, 'Bo', undefined, { room: 'nack' });
    try {
      const big = '€'.repeat(700); // 2,100 bytes of UTF-8 within the 2,000-character box
      const id = await ana.send(big);
      await ana.waitDelivery(id, 'failed');
      assert.match((await ana.page.getAttribute(`.message[data-id="${id}"] .delivery`, 'title')) ?? '', /size|exceed/i);
      await ana.page.click(`.message[data-id="${id}"] .retry`);
      await ana.waitDelivery(id, 'failed');
      const ok = await ana.send('a small one goes');
      await bo.waitMessage('a small one goes');
      await ana.waitDelivery(ok, 'acknowledged');
      assert.equal(await count(bo, big), 0);
    } finally {
      await ana.close();
      await bo.close();
      await server.close();
    }
  });

  it('failed when the connection gives up (suspended); Retry from the keyboard delivers it once', async () => {
    const server = await startChatServer({ connectionStateTtl: 2000 });
    const ana = await ChatPage.join(browser(), server, 'Ana', undefined, { room: 'suspend', cuttable: true });
    const bo = await ChatPage.join(browser(), server, 'Bo', undefined, { room: 'suspend' });
    try {
      ana.cutNetwork();
      await ana.page.waitForSelector('#conn[data-state="disconnected"]', { timeout: 10_000 });
      const id = await ana.send('kept trying');
      await ana.page.waitForSelector('#conn[data-state="suspended"]', { timeout: 20_000 });
      await ana.waitDelivery(id, 'failed');
      await ana.page.setViewportSize({ width: 1280, height: 760 });
      await ana.page.screenshot({ path: screenshotPath('chat-offline.png') }); // offline, the message not sent, Retry
      assert.equal(
        await ana.page.isVisible('#members-stale'),
        true,
        'offline, the members list says it is the last known one',
      );
      ana.proxy!.unblock();
      await ana.page.focus(`.message[data-id="${id}"] .retry`);
      await ana.page.keyboard.press('Enter');
      await ana.waitDelivery(id, 'acknowledged', 15_000);
      await bo.waitMessage('kept trying');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await count(bo, 'kept trying'), 1);
      await bo.waitMember('Ana'); // back in the room after the new connection
      await ana.page.waitForSelector('#members-stale', { state: 'hidden' });
    } finally {
      await ana.close();
      await bo.close();
      await server.close();
    }
  });
});

describe('chat demo: who is typing', () => {
  it('the sender throttles: a steady typer sends about one update a second, then one "stopped"', async () => {
    const server = await startChatServer();
    const bo = await ChatPage.join(browser(), server, 'Bo', undefined, { room: 'throttle' });
    const watcher = new Ably.Realtime({
      authUrl: `http://127.0.0.1:${server.port}/demo/token`,
      authParams: { clientId: 'Watcher' },
      clientId: 'Watcher',
      endpoint: '127.0.0.1',
      port: server.port,
      tls: false,
      logLevel: 0,
      disableConnectivityCheck: true,
    });
    try {
      const updates: { t: number; typing: boolean }[] = [];
      await watcher.channels.get('chat:throttle').presence.subscribe('update', (p) => {
        if (p.clientId === 'Bo') updates.push({ t: Date.now(), typing: objectOf(dataOf(p)).typing === true });
      });
      await bo.page.focus('#composer-text');
      const started = Date.now();
      for (let i = 0; i < 30; i++) {
        await bo.page.keyboard.type('x');
        await new Promise((r) => setTimeout(r, 100));
      }
      const typedFor = Date.now() - started;
      await new Promise((r) => setTimeout(r, 2500)); // idle: "stopped" follows
      const typing = updates.filter((u) => u.typing);
      assert.ok(
        typing.length >= 2 && typing.length <= Math.ceil(typedFor / 1000) + 1,
        `${typing.length} typing updates for ${typedFor} ms of typing: ${JSON.stringify(updates)}`,
      );
      assert.deepEqual(updates.filter((u) => !u.typing).length, 1);
      assert.equal(updates.at(-1)?.typing, false);
    } finally {
      watcher.close();
      await bo.close();
      await server.close();
    }
  });

  it("the receiver lets a typer who vanished expire within 3 s, while their member stays for the server's timeout", async () => {
    const server = await startChatServer({ presenceRemainPresentFor: 20_000 });
    const ana = await ChatPage.join(browser(), server, 'Ana', undefined, { room: 'vanish' });
    const bo = await ChatPage.join(browser(), server, 'Bo', undefined, { room: 'vanish', cuttable: true });
    try {
      await ana.waitMember('Bo');
      await ana.recordTyping();
      const pressed = await bo.keystroke('q');
      await ana.page.waitForFunction(() =>
        ((globalThis as unknown as ProbeWindow).probes.text('#typing') ?? '').includes('Bo is typing'),
      );
      bo.cutNetwork(); // Bo's "stopped" never gets out
      await ana.page.waitForFunction(() => (globalThis as unknown as ProbeWindow).probes.text('#typing') === '', null, {
        timeout: 6000,
      });
      const gone = (await ana.typingLog()).find((e) => e.text === '')!.t;
      assert.ok(gone - pressed <= 3000, `typing expired ${gone - pressed} ms after the last keystroke`);
      assert.ok(
        await ana.page.evaluate(() => (globalThis as unknown as ProbeWindow).probes.hasMember('Bo')),
        'Bo is still present (remainPresentFor)',
      );
    } finally {
      await ana.close();
      await bo.close();
      await server.close();
    }
  });
});

describe('chat demo: keyboard only', () => {
  it('joins, sends, reaches every control with Tab and changes room with Enter', async () => {
    const server = await startChatServer();
    const page = await browser().open(`http://127.0.0.1:${server.port}/`);
    try {
      const active = (): Promise<string> =>
        page.evaluate(() => (globalThis as unknown as ProbeWindow).probes.activeId());
      assert.equal(await active(), 'join-name'); // focused on load
      await page.keyboard.type('Kim');
      await page.keyboard.press('Enter');
      await page.waitForSelector('#conn[data-state="connected"]', { timeout: 20_000 });
      assert.equal(await active(), 'composer-text'); // ready to write
      await page.keyboard.type('typed, never clicked');
      await page.keyboard.press('Enter');
      await page.waitForSelector('.message.own[data-delivery="acknowledged"]', { timeout: 10_000 });
      const reached = new Set<string>();
      for (let i = 0; i < 25; i++) {
        await page.keyboard.press('Tab');
        reached.add(await active());
      }
      for (const id of ['transport', 'a[href="#room/random"]', 'room-name', 'composer-text', 'send', 'messages']) {
        assert.ok(
          [...reached].some((r) => r.startsWith(id)),
          `Tab never reached ${id}: ${[...reached].join(', ')}`,
        );
      }
      await page.focus('a[href="#room/random"]');
      await page.keyboard.press('Enter');
      await page.waitForFunction(
        () => (globalThis as unknown as ProbeWindow).probes.text('#room-title') === '# random',
      );
      await page.waitForFunction(() => (globalThis as unknown as ProbeWindow).probes.hasMember('Kim'));
    } finally {
      await page.close();
      await server.close();
    }
  });
});

describe('chat demo: screenshots', () => {
  it('desktop and phone, with people, messages and someone typing', async () => {
    const server = await startChatServer();
    const people: ChatPage[] = [];
    try {
      for (const name of ['Ana Lima', 'Bo', 'Cy Okafor'])
        people.push(await ChatPage.join(browser(), server, name, undefined, { room: 'general' }));
      const [ana, bo, cy] = people as [ChatPage, ChatPage, ChatPage];
      await ana.send('Morning! Is the release still on for today?');
      await bo.send('Yes, after the last test run. Cy is checking the dashboard.');
      await cy.send('All green so far: 5 nodes, no errors in the last hour.');
      await ana.send('Great, thanks both!');
      for (const p of people) await p.waitMessage('Great, thanks both');
      await bo.page.focus('#composer-text');
      await bo.page.keyboard.type('On it', { delay: 30 });
      await ana.page.waitForFunction(() =>
        ((globalThis as unknown as ProbeWindow).probes.text('#typing') ?? '').includes('Bo is typing'),
      );
      await ana.page.setViewportSize({ width: 1280, height: 760 });
      await ana.page.screenshot({ path: screenshotPath('chat-desktop.png') });
      await cy.page.setViewportSize({ width: 390, height: 760 });
      await bo.page.keyboard.type('…');
      await cy.page.waitForFunction(() =>
        ((globalThis as unknown as ProbeWindow).probes.text('#typing') ?? '').includes('Bo is typing'),
      );
      await cy.page.screenshot({ path: screenshotPath('chat-phone.png') });
      assert.equal(
        await cy.page.evaluate(() => (globalThis as unknown as ProbeWindow).probes.overflowsSideways()),
        false,
        'the phone layout sticks out sideways',
      );
      // The join screen as a newcomer sees it.
      const fresh = await browser().open(`http://127.0.0.1:${server.port}/`);
      await fresh.setViewportSize({ width: 1280, height: 760 });
      await fresh.screenshot({ path: screenshotPath('chat-join.png') });
      await fresh.close();
    } finally {
      for (const p of people) await p.close();
      await server.close();
    }
  });
});

describe('chat demo: no API key in the page', () => {
  it('every request and socket of the page carries a token from /demo/token, none a key or its secret', async () => {
    const server = await startChatServer();
    const page = await browser().context.newPage();
    const seen: { url: string; authorization: string }[] = [];
    page.on('request', (r) => seen.push({ url: r.url(), authorization: r.headers().authorization ?? '' }));
    page.on('websocket', (ws) => seen.push({ url: ws.url(), authorization: '' }));
    try {
      await page.goto(`http://127.0.0.1:${server.port}/#room/keyless`);
      await page.fill('#join-name', 'Kim');
      await page.press('#join-name', 'Enter');
      await page.waitForSelector('#conn[data-state="connected"]', { timeout: 20_000 });
      await page.fill('#composer-text', 'no key here');
      await page.press('#composer-text', 'Enter');
      await page.waitForSelector('.message.own[data-delivery="acknowledged"]', { timeout: 10_000 });
      const secrets = Object.values(KEYS).map((k) => k.slice(k.indexOf(':') + 1));
      for (const r of seen) {
        for (const secret of secrets)
          assert.ok(!r.url.includes(secret) && !r.authorization.includes(secret), `a key secret in ${r.url}`);
        assert.ok(!/[?&]key=/.test(r.url), `a key in ${r.url}`);
        assert.ok(!r.authorization.startsWith('Basic '), `basic auth on ${r.url}`);
      }
      assert.ok(
        seen.some(
          (r) => new URL(r.url).pathname === '/demo/token' && new URL(r.url).searchParams.get('clientId') === 'Kim',
        ),
        'the token came from the demo endpoint',
      );
      assert.ok(
        seen.some((r) => r.url.startsWith('ws://') && new URL(r.url).searchParams.has('access_token')),
        'the connection is authenticated by a token',
      );
      const html = await page.content();
      for (const secret of secrets) assert.ok(!html.includes(secret));
    } finally {
      await page.close();
      await server.close();
    }
  });
});
