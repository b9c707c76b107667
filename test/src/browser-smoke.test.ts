/**
 * The ably-js 2.x browser build in Chromium, cross-origin (the page is served from another port):
 * connect, publish/subscribe, presence enter and get, history, over each transport it has.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AblyPage, sdkOptions } from './helpers/browser-ably.js';
import { PageServer, launchBrowser, type TestBrowser } from './helpers/browser.js';
import { KillableProxy } from './helpers/proxy.js';
import { startServer, type TestServer } from './helpers/server.js';

describe('browser smoke: ably-js 2.x in Chromium, cross-origin', () => {
  let ts: TestServer;
  let pages: PageServer;
  let browser: TestBrowser;

  before(async () => {
    ts = await startServer();
    pages = await PageServer.start();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await pages?.close();
    await ts?.close();
  });

  for (const transport of ['web_socket', 'xhr_polling']) {
    it(`${transport}: connect, publish/subscribe, presence enter+get, history`, async () => {
      const page = await AblyPage.open(browser, pages, 'ably');
      try {
        const alice = await page.create('alice', sdkOptions('ably', ts.port, [transport], { clientId: 'alice' }));
        const bob = await page.create('bob', sdkOptions('ably', ts.port, [transport], { clientId: 'bob' }));
        await alice.waitState('connected');
        await bob.waitState('connected');
        assert.equal((await alice.info()).transport, transport);
        assert.notEqual(new URL(page.page.url()).port, String(ts.port), 'the page is on another origin');

        const channel = `smoke-${transport}`;
        await bob.subscribe(channel);
        await alice.publish(channel, 'greeting', { hello: 'world' });
        await alice.publish(channel, 'text', 'second');
        const got = await bob.waitReceived(channel, 2);
        assert.deepEqual(got.map((m) => [m.name, m.data, m.clientId]), [
          ['greeting', { hello: 'world' }, 'alice'],
          ['text', 'second', 'alice'],
        ]);

        await alice.enter(channel, 'here');
        const members = await bob.presence(channel);
        assert.deepEqual(members.map((m) => [m.clientId, m.data]), [['alice', 'here']]);

        const history = await bob.history(channel);
        assert.deepEqual(history.map((m) => [m.name, m.data]), [
          ['greeting', { hello: 'world' }],
          ['text', 'second'],
        ]);
        await alice.close();
        await bob.close();
      } finally {
        await page.close();
      }
    });
  }

  for (const transport of ['web_socket', 'xhr_polling']) {
    it(`${transport}: a network drop mid-stream loses nothing (KillableProxy cuts the page's sockets)`, async () => {
      const proxy = await KillableProxy.start(ts.port);
      const page = await AblyPage.open(browser, pages, 'ably');
      try {
        const channel = `drop-${transport}`;
        const sub = await page.create('sub', sdkOptions('ably', proxy.port, [transport], { disconnectedRetryTimeout: 500 }));
        const pub = await page.create('pub', sdkOptions('ably', ts.port, [transport]));
        await sub.waitState('connected');
        await pub.waitState('connected');
        const before = await sub.info();
        await sub.subscribe(channel);
        for (let i = 0; i < 3; i++) await pub.publish(channel, `m${i}`, String(i));
        await sub.waitReceived(channel, 3);

        proxy.block();
        await sub.waitState('disconnected');
        for (let i = 3; i < 6; i++) await pub.publish(channel, `m${i}`, String(i));
        proxy.unblock();
        await sub.waitState('connected');
        for (let i = 6; i < 8; i++) await pub.publish(channel, `m${i}`, String(i));

        const got = await sub.waitReceived(channel, 8);
        assert.deepEqual(got.map((m) => m.name), ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
        assert.equal((await sub.info()).id, before.id, 'the connection resumed');
        assert.ok(proxy.kills >= 1);
      } finally {
        await page.close();
        await proxy.close();
      }
    });
  }
});
