/**
 * One connection per browser (@encke/client `shareConnection`, docs/client.md "One connection per
 * browser"), in Chromium: three tabs of one origin, on both paths (a SharedWorker, and leader
 * election over BroadcastChannel + Web Locks forced with `shareConnection: 'leader'`), share one
 * server-side connection (counted with the server's inspect API); each tab receives exactly its own
 * subscriptions and is a presence member of its own; closing the tab that holds the connection
 * (leader) or any tab (worker) hands over with every message exactly once, in order, both ways.
 * What any script of the origin posts to a SharedWorker or on the BroadcastChannel is checked: a
 * message of another shape is ignored (no forged tab is connected).
 * Each test has its own server and browser, so nothing (workers, locks, connections) carries over.
 */
import { dataOf } from './helpers/field.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type * as Ably from 'ably';
import type { ClientOptions } from '@encke/client';
import { Collector, closeAll, connect, eventually, realtime } from './helpers/ably.js';
import { launchBrowser, PageServer, type TestBrowser } from './helpers/browser.js';
import { EnckePage, pageOptions, serveClient } from './helpers/browser-encke.js';
import { assertExactlyOnceInOrder } from './helpers/numbered.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

const ABLY_WS = { name: 'ably websocket', transport: 'web_socket', format: 'json' } as const;
const COUNT = 1000;

interface Mode {
  name: string;
  options(pages: PageServer): ClientOptions;
  /** Closing the first tab moves the connection to another tab (the others' links end and resume). */
  moves: boolean;
}

const MODES: Mode[] = [
  {
    name: 'SharedWorker',
    options: (pages) => ({ shareConnection: true, sharedWorkerUrl: pages.url('/client/worker.js') }),
    moves: false,
  },
  { name: 'BroadcastChannel leader (forced)', options: () => ({ shareConnection: 'leader' }), moves: true },
];

describe('@encke/client in Chromium: tabs of one origin share one connection', () => {
  let pages: PageServer;
  before(async () => {
    pages = await PageServer.start();
    await serveClient(pages);
  });
  after(() => pages.close());

  interface World {
    ts: TestServer;
    browser: TestBrowser;
    tabs: EnckePage[];
    sdk: Ably.Realtime;
  }

  /** A server, a browser, `n` tabs connected one after another (the first holds the connection when electing), the SDK. */
  async function world(mode: Mode, n: number): Promise<World> {
    const ts = await startServer({});
    const browser = await launchBrowser();
    const tabs: EnckePage[] = [];
    for (let i = 1; i <= n; i++) {
      const tab = await EnckePage.open(browser, pages);
      await tab.create(
        'a',
        pageOptions(ts.port, undefined, {
          clientId: `tab-${i}`,
          disconnectedRetryTimeout: 500,
          ...mode.options(pages),
        }),
      );
      await tab.connected('a');
      tabs.push(tab);
    }
    const sdk = realtime(ts, ABLY_WS, { clientId: 'sdk' });
    await connect(sdk);
    return { ts, browser, tabs, sdk };
  }

  /**
   * A list of members (`clientId=data`, sorted) read until it has `n` (or for 10 s): a member another
   * tab entered reaches a tab through the shared connection's relay, after the server has it.
   */
  async function settled(read: () => Promise<string[]>, n: number): Promise<string[]> {
    let list: string[] = [];
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      list = (await read()).sort();
      if (list.length === n) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return list;
  }

  /** The SDK's view of a channel's members, once there are `n`. */
  const members = (sdk: Ably.Realtime, channel: string, n: number): Promise<string[]> =>
    settled(
      async () => (await sdk.channels.get(channel).presence.get()).map((m) => `${m.clientId}=${String(dataOf(m))}`),
      n,
    );

  async function end(w: World): Promise<void> {
    await closeAll(w.sdk);
    await w.browser.close();
    await w.ts.close();
  }

  it(
    "a forged message to the SharedWorker or on the leader tab's BroadcastChannel is ignored: no forged tab is connected",
    { timeout: 60_000 },
    async () => {
      const ts = await startServer({});
      const browser = await launchBrowser();
      try {
        const tab = await EnckePage.open(browser, pages);
        await tab.create('a', pageOptions(ts.port, undefined, { clientId: 'tab-1', shareConnection: 'leader' }));
        await tab.connected('a');
        // On each medium a forged hello (a clientId that is no string), then a real one: the hub connects
        // (answers) them in order, so the first answer says whether the forged one was taken.
        const group = `encke:ws://127.0.0.1:${ts.port}/json/${KEYS.full.slice(0, KEYS.full.indexOf(':'))}`;
        const viaBus = await tab.page.evaluate(
          (name) =>
            new Promise<unknown>((resolve) => {
              const bus = new BroadcastChannel(name);
              bus.onmessage = (ev: { data: unknown }) => {
                const d = ev.data;
                const to = typeof d === 'object' && d !== null && 'to' in d ? d.to : undefined;
                if (to === 'forged' || to === 'real') resolve(to);
              };
              bus.postMessage({ t: 'open', tab: 'forged', clientId: 5 });
              bus.postMessage({ t: 'open', tab: 'real' });
            }),
          group,
        );
        const options = { key: KEYS.full, host: '127.0.0.1', port: ts.port, tls: false, format: 'json' };
        const viaWorker = await tab.page.evaluate(
          ([url, init]) =>
            new Promise<unknown>((resolve) => {
              interface Port {
                onmessage: ((ev: { data: unknown }) => void) | null;
                postMessage(m: unknown): void;
              }
              const g = globalThis as unknown as { SharedWorker: new (u: string, o: object) => { port: Port } };
              const port = new g.SharedWorker(url, { type: 'module', name: 'forged' }).port;
              port.onmessage = (ev) => {
                const d = ev.data;
                const to = typeof d === 'object' && d !== null && 'to' in d ? d.to : undefined;
                if (to === 'forged' || to === 'real') resolve(to);
              };
              port.postMessage({ t: 'init', options: init });
              port.postMessage({ t: 'open', tab: 'forged', clientId: 5 });
              port.postMessage({ t: 'open', tab: 'real' });
            }),
          [pages.url('/client/worker.js'), options] as const,
        );
        assert.equal(viaWorker, 'real', 'the SharedWorker');
        assert.equal(viaBus, 'real', 'the leader tab');
      } finally {
        await browser.close();
        await ts.close();
      }
    },
  );

  for (const mode of MODES) {
    it(
      `${mode.name}: three tabs, one server connection, each tab its own subscriptions and presence identity`,
      { timeout: 60_000 },
      async () => {
        const w = await world(mode, 3);
        try {
          const { ts, tabs, sdk } = w;
          // The SDK is the second connection; the three tabs are one.
          assert.equal(ts.server.inspect.connections, 2);
          const infos = await Promise.all(tabs.map((t) => t.info('a')));
          assert.equal(new Set(infos.map((i) => i.id)).size, 1, `tabs on ${infos.map((i) => i.id).join(', ')}`);
          assert.ok(
            infos.every((i) => i.state === 'connected' && i.transport === 'web_socket'),
            JSON.stringify(infos),
          );

          for (const [i, tab] of tabs.entries()) {
            await tab.subscribe('a', `own-${i + 1}`);
            await tab.subscribe('a', 'common');
          }
          for (let i = 1; i <= 3; i++) await sdk.channels.get(`own-${i}`).publish('for', `tab-${i}`);
          await sdk.channels.get('common').publish('all', 'everyone');
          await tabs[1]!.publish('a', 'common', 'from-tab', 'hi from tab 2');
          for (const [i, tab] of tabs.entries()) {
            const own = await tab.waitReceived('a', `own-${i + 1}`, 1);
            assert.deepEqual(
              own.map((m) => m.data),
              [`tab-${i + 1}`],
            );
            const common = await tab.waitReceived('a', 'common', 2);
            assert.deepEqual(common.map((m) => m.data).sort(), ['everyone', 'hi from tab 2']);
          }
          // Nothing more (no copy per tab of what the one connection received), and only its own channels.
          await new Promise((r) => setTimeout(r, 300));
          for (const [i, tab] of tabs.entries()) {
            assert.equal((await tab.received('a', 'common')).length, 2, `tab-${i + 1} common`);
            for (let j = 1; j <= 3; j++)
              assert.equal((await tab.received('a', `own-${j}`)).length, j === i + 1 ? 1 : 0, `tab-${i + 1} own-${j}`);
          }
          const fromTab = await sdk.channels.get('common').history();
          assert.equal(
            fromTab.items.find((m) => m.name === 'from-tab')?.clientId,
            'tab-2',
            'a tab publishes as its own clientId',
          );

          for (const [i, tab] of tabs.entries()) await tab.enter('a', 'common', `here-${i + 1}`);
          const expected = ['tab-1=here-1', 'tab-2=here-2', 'tab-3=here-3'];
          assert.deepEqual(await members(sdk, 'common', 3), expected, 'the SDK sees each tab as a member');
          for (const tab of tabs) assert.deepEqual(await settled(() => tab.members('a', 'common'), 3), expected);
          const connectionIds = new Set((await sdk.channels.get('common').presence.get()).map((m) => m.connectionId));
          assert.deepEqual([...connectionIds], [infos[0]!.id], 'all members are on the one shared connection');
        } finally {
          await end(w);
        }
      },
    );

    it(
      `${mode.name}: closing the first tab hands over; 1,000 messages each way exactly once, in order`,
      { timeout: 120_000 },
      async () => {
        const w = await world(mode, 3);
        try {
          const { ts, tabs, sdk } = w;
          const [first, second, third] = tabs as [EnckePage, EnckePage, EnckePage];
          const { id } = await first.info('a');
          for (const tab of tabs) {
            await tab.subscribe('a', 'down');
            await tab.subscribe('a', 'up');
          }
          for (const [i, tab] of tabs.entries()) await tab.enter('a', 'down', `here-${i + 1}`);
          const atSdk = new Collector<Ably.Message>();
          await sdk.channels.get('up').subscribe('n', atSdk.listener);
          const down = (async () => {
            const ch = sdk.channels.get('down');
            for (let i = 0; i < COUNT; i += 10) {
              await ch.publish(Array.from({ length: 10 }, (_, k) => ({ name: 'n', data: String(i + k) })));
              await new Promise((r) => setTimeout(r, 30));
            }
          })();
          const up = second.publishNumbered('a', 'up', COUNT, 4000);
          await new Promise((r) => setTimeout(r, 1200));
          await first.page.close({ runBeforeUnload: true });
          await Promise.all([down, up]);
          for (const [who, tab] of [
            ['second', second],
            ['third', third],
          ] as const) {
            const got = await tab.waitReceived('a', 'down', COUNT, 30_000).catch(() => tab.received('a', 'down'));
            assertExactlyOnceInOrder(
              got.map((m) => Number(m.data)),
              COUNT,
              `${who} tab, down (${(await tab.info('a')).states.join(' ')})`,
            );
          }
          const upAtThird = await third.waitReceived('a', 'up', COUNT, 30_000).catch(() => third.received('a', 'up'));
          assertExactlyOnceInOrder(
            upAtThird.map((m) => Number(m.data)),
            COUNT,
            'third tab, up',
          );
          await atSdk.waitFor(COUNT, 30_000).catch(() => undefined);
          assertExactlyOnceInOrder(
            atSdk.items.map((m) => Number(dataOf(m))),
            COUNT,
            'SDK, up',
          );

          // Still one connection, the same one (continued by the next holder), and the closed tab has left.
          for (const tab of [second, third]) {
            const info = await tab.info('a');
            assert.equal(info.id, id);
            // Leader: the tab's link to the closed leader ended and resumed on the next; worker: never interrupted.
            assert.equal(
              info.states.some((s) => s.startsWith('disconnected')),
              mode.moves,
              info.states.join(' '),
            );
          }
          await eventually(() => ts.server.inspect.connections === 2, 10_000, 'one shared connection + the SDK');
          assert.deepEqual(await members(sdk, 'down', 2), ['tab-2=here-2', 'tab-3=here-3']);
        } finally {
          await end(w);
        }
      },
    );
  }
});
