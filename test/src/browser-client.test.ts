/**
 * @encke/client in Chromium, cross-origin to the server: every transport forced in turn (with the
 * official SDK on the other end), the automatic choice when WebSocket is refused and when a proxy
 * buffers streamed responses, and continuity per transport through a proxy that cuts the page's
 * connections every ~0.5 s while 1,000 numbered messages flow each way.
 */
import { dataOf } from './helpers/field.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as Ably from 'ably';
import { TRANSPORTS, type TransportName } from '@encke/client/transports';
import { Collector, closeAll, connect, realtime } from './helpers/ably.js';
import { useBrowserFixture } from './helpers/browser.js';
import { EnckePage, pageOptions, serveClient } from './helpers/browser-encke.js';
import { HttpProxy } from './helpers/http-proxy.js';
import { KillableProxy } from './helpers/proxy.js';

const ABLY_WS = { name: 'ably websocket', transport: 'web_socket', format: 'json' } as const;

describe('@encke/client in Chromium', () => {
  const f = useBrowserFixture({ maxIdleInterval: 2000 });
  let served = false;
  const page = async (): Promise<EnckePage> => {
    if (!served) {
      await serveClient(f.pages);
      served = true;
    }
    return EnckePage.open(f.browser, f.pages);
  };

  for (const transport of TRANSPORTS) {
    it(
      `${transport} forced: connects, pub/sub both ways with the official SDK, presence, history`,
      { timeout: 60_000 },
      async () => {
        const p = await page();
        const ably = realtime(f.ts, ABLY_WS, { clientId: 'sdk' });
        const channel = `forced-${transport}`;
        try {
          await p.create('a', pageOptions(f.ts.port, [transport], { clientId: 'page' }));
          const info = await p.connected('a');
          assert.equal(info.transport, transport);
          await p.subscribe('a', channel);
          await connect(ably);
          const atSdk = new Collector<Ably.Message>();
          await ably.channels.get(channel).subscribe(atSdk.listener);
          await p.publish('a', channel, 'from-page', { n: 1 });
          await ably.channels.get(channel).publish('from-sdk', 'hello page');
          const got = await p.waitReceived('a', channel, 2);
          assert.deepEqual(got.map((m) => m.name).sort(), ['from-page', 'from-sdk']);
          assert.equal(got.find((m) => m.name === 'from-sdk')?.data, 'hello page');
          const sdkGot = await atSdk.waitFor(2);
          assert.deepEqual(dataOf(sdkGot.find((m) => m.name === 'from-page')), { n: 1 });
          await p.enter('a', channel, 'here');
          await new Promise((r) => setTimeout(r, 100));
          const members = await ably.channels.get(channel).presence.get();
          assert.deepEqual(
            members.map((m) => `${m.clientId}=${String(dataOf(m))}`),
            ['page=here'],
          );
          assert.deepEqual(await p.members('a', channel), ['page=here']);
          assert.deepEqual((await p.history('a', channel)).length, 2);
        } finally {
          await p.close('a').catch(() => undefined);
          await closeAll(ably);
          await p.page.close();
        }
      },
    );
  }

  it('WebSocket refused by a proxy: the default order connects on comet streaming', { timeout: 60_000 }, async () => {
    const proxy = await HttpProxy.start(f.ts.port, {});
    const p = await page();
    try {
      await p.create('a', pageOptions(proxy.port, undefined));
      const info = await p.connected('a');
      assert.equal(info.transport, 'xhr_streaming');
      assert.ok(proxy.refused >= 1, 'the WebSocket upgrade was tried and refused');
      await p.subscribe('a', 'fallback');
      await p.publish('a', 'fallback', 'x', 'works');
      await p.waitReceived('a', 'fallback', 1);
    } finally {
      await p.close('a').catch(() => undefined);
      await p.page.close();
      await proxy.close();
    }
  });

  it(
    'WebSocket refused and streaming buffered by a proxy: the stall is noticed and long-polling is used',
    { timeout: 60_000 },
    async () => {
      const proxy = await HttpProxy.start(f.ts.port, { bufferStreams: true });
      const p = await page();
      try {
        await p.create('a', pageOptions(proxy.port, undefined, { transportStallTimeout: 1500 }));
        const info = await p.connected('a');
        assert.equal(info.transport, 'xhr_polling');
        assert.ok(proxy.buffered >= 1, 'a streamed connect was held by the proxy');
        await p.subscribe('a', 'buffered');
        await p.publish('a', 'buffered', 'x', 'works');
        await p.waitReceived('a', 'buffered', 1);
      } finally {
        await p.close('a').catch(() => undefined);
        await p.page.close();
        await proxy.close();
      }
    },
  );

  const COUNT = 1000;
  // Every transport. The polled ones (xhr_polling, polling, jsonp) depend on acknowledged polling:
  // Chromium silently re-sends a GET whose reused connection was reset before any answer byte, so
  // the page sees only the retry's answer; the retry says what the page has (`ack=`) and the server
  // writes the lost answer again (docs/protocol.md "Acknowledged polling").
  for (const transport of TRANSPORTS) {
    it(
      `${transport}: 1,000 messages each way through a proxy cutting every ~0.5 s, exactly once, in order`,
      { timeout: 240_000 },
      async () => {
        const proxy = await KillableProxy.start(f.ts.port);
        const p = await page();
        const sdk = realtime(f.ts, ABLY_WS, { clientId: 'steady' });
        const channel = `continuity-${transport}`;
        const timer = setInterval(() => proxy.killAll(), 500);
        try {
          await p.create('a', pageOptions(proxy.port, [transport as TransportName], { disconnectedRetryTimeout: 100 }));
          const { id } = await p.connected('a');
          await p.subscribe('a', channel);
          await connect(sdk);
          const atSdk = new Collector<Ably.Message>();
          await sdk.channels.get(channel).subscribe('n', atSdk.listener);
          const fromSdk = (async () => {
            const ch = sdk.channels.get(channel);
            for (let i = 0; i < COUNT; i += 10)
              await ch.publish(Array.from({ length: 10 }, (_, k) => ({ name: 'n', data: String(i + k) })));
          })();
          // Spread over 6 s, ~12 cuts: a cut finds no connection while the page reconnects, which on a
          // busy machine can take longer than a cut's period (4 s once gave only 3 cuts that hit one).
          await Promise.all([p.publishNumbered('a', channel, COUNT, 6000), fromSdk]);
          // Whatever has arrived after the wait is checked, so that a failure says what is missing.
          const atPage = await p.waitReceived('a', channel, 2 * COUNT, 30_000).catch(() => p.received('a', channel));
          await atSdk.waitFor(2 * COUNT, 30_000).catch(() => undefined);
          const inOrder = (numbers: number[], who: string): void => {
            const missing = Array.from({ length: COUNT }, (_, i) => i).filter((i) => !numbers.includes(i));
            assert.deepEqual(missing, [], `${who}: missing ${missing.length}`);
            const bad = numbers.findIndex((n, i) => n !== i);
            assert.equal(
              bad,
              -1,
              `${who}: position ${bad} has ${numbers[bad]} (around: ${numbers.slice(Math.max(0, bad - 3), bad + 3).join(',')})`,
            );
            assert.equal(numbers.length, COUNT, `${who}: ${numbers.length} messages`);
          };
          const streams: [string, number[]][] = [
            ['page, its own', atPage.filter((m) => m.connectionId === id).map((m) => Number(m.data))],
            ['page, from the SDK', atPage.filter((m) => m.connectionId !== id).map((m) => Number(m.data))],
            ['SDK, from the page', atSdk.items.filter((m) => m.connectionId === id).map((m) => Number(dataOf(m)))],
          ];
          const missing = streams.map(
            ([who, ns]) =>
              `${who}: ${Array.from({ length: COUNT }, (_, i) => i)
                .filter((i) => !ns.includes(i))
                .join(',')}`,
          );
          const history = (await p.info('a')).states.join(', ');
          for (const [who, numbers] of streams)
            assert.doesNotThrow(() => inOrder(numbers, who), `${missing.join(' | ')}; states: ${history}`);
          assert.ok(proxy.kills >= 4, `only ${proxy.kills} cuts`);
          assert.equal((await p.info('a')).id, id, 'every reconnection resumed the same connection');
        } finally {
          clearInterval(timer);
          await p.close('a').catch(() => undefined);
          await closeAll(sdk);
          await p.page.close();
          await proxy.close();
        }
      },
    );
  }
});
