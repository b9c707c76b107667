/**
 * @encke/client in Chromium: the package bundled for the browser by esbuild (code splitting, so
 * each transport is a chunk loaded on demand, as in an app), served by the PageServer under
 * /client/, and a page that drives clients by id through `page.evaluate`.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import type { ClientOptions, TransportName } from '@encke/client';
import { TRANSPORTS } from '@encke/client/transports';
import { isArrayValue, isPlainObject } from '@encke/protocol';
import type { PageServer, TestBrowser } from './browser.js';
import { REPO } from './process.js';
import { KEYS } from './server.js';

/**
 * Bundles packages/client for the browser and serves every chunk under /client/: the page entry
 * (`/client/index.js`) and the SharedWorker of shared connections (`/client/worker.js`).
 */
export async function serveClient(pages: PageServer): Promise<void> {
  const result = await build({
    entryPoints: {
      index: join(REPO, 'packages/client/dist/index.js'),
      worker: join(REPO, 'packages/client/dist/shared/worker.js'),
    },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: '/client-bundle',
    write: false,
    logLevel: 'silent',
  });
  for (const file of result.outputFiles) {
    const name = file.path.slice(file.path.lastIndexOf('/') + 1);
    pages.route(`/client/${name}`, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/javascript; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(file.contents);
    });
  }
  pages.route('/client.html', DRIVER_HTML);
}

/** The driver: `window.drive` keeps clients by id and what they received. */
const DRIVER_HTML = `<!doctype html><meta charset="utf-8"><title>@encke/client driver</title><body>
<script type="module">
  import * as Encke from '/client/index.js';
  const clients = {}, received = {}, states = {};
  window.drive = {
    create(id, options) {
      states[id] = [];
      clients[id] = new Encke.Realtime(options);
      clients[id].connection.on((c) => states[id].push(c.current + (c.reason ? ':' + c.reason.code : '')));
    },
    async connected(id) {
      const c = clients[id];
      if (c.connection.state !== 'connected') await c.connection.once('connected');
      return { id: c.connection.id, transport: c.connection.transport };
    },
    info: (id) => ({ state: clients[id].connection.state, transport: clients[id].connection.transport, id: clients[id].connection.id, states: states[id] }),
    async subscribe(id, channel) {
      const list = (received[id + '/' + channel] = []);
      clients[id].channels.get(channel).on((c) => states[id].push(channel + ' ' + c.event + (c.reason ? ':' + c.reason.code : '') + (c.resumed ? ' resumed' : '')));
      await clients[id].channels.get(channel).subscribe((m) => list.push({ name: m.name, data: m.data, connectionId: m.connectionId }));
    },
    received: (id, channel) => received[id + '/' + channel] ?? [],
    publish: (id, channel, name, data) => clients[id].channels.get(channel).publish(name, data),
    async publishNumbered(id, channel, count, spreadMs) {
      const ch = clients[id].channels.get(channel), start = Date.now(), inFlight = new Set();
      for (let i = 0; i < count; i++) {
        const due = start + (i * spreadMs) / count - Date.now();
        if (due > 0) await new Promise((r) => setTimeout(r, due));
        const p = ch.publish('n', i).finally(() => inFlight.delete(p));
        inFlight.add(p);
        if (inFlight.size >= 16) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    },
    enter: (id, channel, data) => clients[id].channels.get(channel).presence.enter(data),
    async members(id, channel) {
      return (await clients[id].channels.get(channel).presence.get()).map((m) => m.clientId + '=' + m.data);
    },
    async history(id, channel) {
      return (await clients[id].channels.get(channel).history()).items.map((m) => m.data);
    },
    close(id) {
      clients[id].close();
    },
  };
  window.ready = true;
</script>`;

/** What the driver says of a client (`info`). */
interface Info {
  state: string;
  transport: string | undefined;
  id: string | undefined;
  states: string[];
}

const isInfo = (v: unknown): v is Info =>
  isPlainObject(v) &&
  typeof v.state === 'string' &&
  (v.transport === undefined || typeof v.transport === 'string') &&
  (v.id === undefined || typeof v.id === 'string') &&
  isArrayValue(v.states) &&
  v.states.every((s) => typeof s === 'string');

/** A message a page client received, as the driver reports it. */
interface Received {
  name: string;
  data: unknown;
  connectionId: string;
}

/** A page of the driver, and checked calls into it. */
export class EnckePage {
  private constructor(readonly page: Page) {}

  static async open(browser: TestBrowser, pages: PageServer): Promise<EnckePage> {
    const page = await browser.open(pages.url('/client.html'));
    await page.waitForFunction(() => (globalThis as unknown as { ready?: boolean }).ready === true);
    return new EnckePage(page);
  }

  /** Calls the page's driver; its answer comes back through structured clone, unknown until checked. */
  private call(method: string, ...args: unknown[]): Promise<unknown> {
    return this.page.evaluate(
      ([m, a]) => {
        const drive = (globalThis as unknown as { drive: Record<string, (...x: unknown[]) => unknown> }).drive;
        return drive[m]!(...a);
      },
      [method, args] as const,
    );
  }

  /** A call whose answer `is` checks (the test fails showing the answer when it does not fit). */
  private async ask<T>(is: (value: unknown) => value is T, method: string, ...args: unknown[]): Promise<T> {
    const answer = await this.call(method, ...args);
    assert.ok(is(answer), `${method}: unexpected answer ${JSON.stringify(answer)}`);
    return answer;
  }

  async create(id: string, options: ClientOptions): Promise<void> {
    await this.call('create', id, options);
  }
  connected(id: string): Promise<{ id: string; transport: TransportName }> {
    return this.ask(
      (v): v is { id: string; transport: TransportName } =>
        isPlainObject(v) && typeof v.id === 'string' && TRANSPORTS.some((t) => t === v.transport),
      'connected',
      id,
    );
  }
  info(id: string): Promise<Info> {
    return this.ask(isInfo, 'info', id);
  }
  async subscribe(id: string, channel: string): Promise<void> {
    await this.call('subscribe', id, channel);
  }
  received(id: string, channel: string): Promise<Received[]> {
    return this.ask(
      (v): v is Received[] =>
        isArrayValue(v) &&
        v.every((m) => isPlainObject(m) && typeof m.name === 'string' && typeof m.connectionId === 'string'),
      'received',
      id,
      channel,
    );
  }
  async publish(id: string, channel: string, name: string, data: unknown): Promise<void> {
    await this.call('publish', id, channel, name, data);
  }
  async publishNumbered(id: string, channel: string, count: number, spreadMs: number): Promise<void> {
    await this.call('publishNumbered', id, channel, count, spreadMs);
  }
  async enter(id: string, channel: string, data: string): Promise<void> {
    await this.call('enter', id, channel, data);
  }
  members(id: string, channel: string): Promise<string[]> {
    return this.ask(
      (v): v is string[] => isArrayValue(v) && v.every((s) => typeof s === 'string'),
      'members',
      id,
      channel,
    );
  }
  history(id: string, channel: string): Promise<unknown[]> {
    return this.ask((v): v is unknown[] => isArrayValue(v), 'history', id, channel);
  }
  async close(id: string): Promise<void> {
    await this.call('close', id);
  }

  /** Waits until `id` has received `count` messages on `channel`. */
  async waitReceived(id: string, channel: string, count: number, timeoutMs = 20_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = await this.received(id, channel);
      if (got.length >= count) return got;
      if (Date.now() > deadline) throw new Error(`${id} got ${got.length} of ${count} on ${channel}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Options for a page client of the test server (cross-origin: the page is on another port). */
export function pageOptions(
  port: number,
  transports: TransportName[] | undefined,
  extra: ClientOptions = {},
): ClientOptions {
  return {
    key: KEYS.full,
    endpoint: '127.0.0.1',
    port,
    tls: false,
    pollInterval: 50,
    rememberTransport: false,
    ...(transports ? { transports } : {}),
    ...extra,
  };
}
