/**
 * The official ably-js browser builds in Chromium, cross-origin (pages come from another port than
 * the server's), once per transport list: connect, publish/subscribe in JSON, presence enter and
 * get, history, and a network drop mid-stream with nothing lost.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AblyPage, sdkOptions, type PageClient, type Sdk } from '../helpers/browser-ably.js';
import { useBrowserFixture } from '../helpers/browser.js';
import { KillableProxy } from '../helpers/proxy.js';

export interface BrowserVariant {
  name: string;
  /** The SDK's `transports` option; undefined: its default (1.x: comet first, then upgrade). */
  transports: string[] | undefined;
  /** The transport the client must end up on. */
  expect: string;
  /** More client options (e.g. `useBinaryProtocol`). */
  options?: Record<string, unknown>;
}

/** Retry at once after a drop instead of the SDK's 15 s. */
const FAST_RETRY = { disconnectedRetryTimeout: 500, suspendedRetryTimeout: 1000 };

async function onTransport(client: PageClient, transport: string): Promise<void> {
  // The default path of 1.x connects over comet and upgrades: wait for the upgrade.
  await client.page.waitForFunction(
    ([n, t]) =>
      (globalThis as unknown as { driver: { info(n: string): { transport: string | null } } }).driver.info(n)
        .transport === t,
    [client.name, transport] as const,
    { timeout: 15_000, polling: 50 },
  );
}

export function browserSdkScenarios(sdk: Sdk, variants: BrowserVariant[]): void {
  describe(`${sdk === 'ably' ? 'ably-js 2.x' : 'ably-js 1.2.50'} browser build in Chromium, cross-origin`, () => {
    const f = useBrowserFixture();

    for (const v of variants) {
      it(`${v.name}: connect, publish/subscribe, presence enter+get, history`, async () => {
        const page = await AblyPage.open(f.browser, f.pages, sdk);
        try {
          const alice = await page.create(
            'alice',
            sdkOptions(sdk, f.ts.port, v.transports, { ...v.options, clientId: 'alice' }),
          );
          const bob = await page.create(
            'bob',
            sdkOptions(sdk, f.ts.port, v.transports, { ...v.options, clientId: 'bob' }),
          );
          await alice.waitState('connected');
          await bob.waitState('connected');
          await onTransport(alice, v.expect);
          await onTransport(bob, v.expect);

          const channel = `basics-${v.name}`;
          await bob.subscribe(channel);
          await alice.publish(channel, 'greeting', { hello: 'world' });
          await alice.publish(channel, 'text', 'second');
          const got = await bob.waitReceived(channel, 2);
          assert.deepEqual(
            got.map((m) => [m.name, m.data, m.clientId]),
            [
              ['greeting', { hello: 'world' }, 'alice'],
              ['text', 'second', 'alice'],
            ],
          );

          await alice.enter(channel, 'here');
          // Bob learns of the enter from his own transport, which may lag alice's ACK (a poll).
          let members = await bob.presence(channel);
          for (const deadline = Date.now() + 10_000; members.length === 0 && Date.now() < deadline;) {
            await new Promise((resolve) => setTimeout(resolve, 50));
            members = await bob.presence(channel);
          }
          assert.deepEqual(
            members.map((m) => [m.clientId, m.data]),
            [['alice', 'here']],
          );

          const history = await bob.history(channel);
          assert.deepEqual(
            history.map((m) => [m.name, m.data]),
            [
              ['greeting', { hello: 'world' }],
              ['text', 'second'],
            ],
          );
          assert.equal((await alice.info()).transport, v.expect, 'still on the same transport');
          const path = await alice.activeTransports();
          const ids = new Set(path.map((p) => p.split(' ')[1]));
          assert.equal(ids.size, 1, `one connection all along: ${path.join(', ')}`);
          if (v.transports === undefined)
            assert.match(path[0]!, /^xhr_(polling|streaming) /, `comet first: ${path.join(', ')}`);
          await alice.close();
          await bob.close();
        } catch (err) {
          console.log(f.browser.log.join('\n'));
          throw err;
        } finally {
          await page.close();
        }
      });

      it(`${v.name}: a network drop mid-stream loses nothing`, async () => {
        const proxy = await KillableProxy.start(f.ts.port);
        const page = await AblyPage.open(f.browser, f.pages, sdk);
        try {
          const channel = `drop-${v.name}`;
          const sub = await page.create(
            'sub',
            sdkOptions(sdk, proxy.port, v.transports, { ...v.options, ...FAST_RETRY }),
          );
          const pub = await page.create('pub', sdkOptions(sdk, f.ts.port, v.transports, v.options));
          await sub.waitState('connected');
          await pub.waitState('connected');
          await onTransport(sub, v.expect);
          const first = await sub.info();
          await sub.subscribe(channel);
          for (let i = 0; i < 3; i++) await pub.publish(channel, `m${i}`, String(i));
          await sub.waitReceived(channel, 3);

          // The drop: every socket of the subscriber reset mid-stream, and none allowed for a while.
          proxy.block();
          await sub.waitState('disconnected');
          for (let i = 3; i < 6; i++) await pub.publish(channel, `m${i}`, String(i));
          proxy.unblock();
          await sub.waitState('connected');
          for (let i = 6; i < 8; i++) await pub.publish(channel, `m${i}`, String(i));

          const got = await sub.waitReceived(channel, 8);
          assert.deepEqual(
            got.map((m) => m.name),
            ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'],
          );
          assert.equal((await sub.info()).id, first.id, 'the connection resumed');
          if (v.options?.useBinaryProtocol)
            assert.match(proxy.sent, /format=msgpack|application\/x-msgpack/, 'it spoke msgpack');
          await sub.close();
          await pub.close();
        } catch (err) {
          console.log(f.browser.log.join('\n'));
          throw err;
        } finally {
          await page.close();
          await proxy.close();
        }
      });
    }
  });
}
