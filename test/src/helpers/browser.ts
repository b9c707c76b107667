/**
 * Browser tests: Debian's `chromium` (installed by `.ci/run`, never downloaded) driven by
 * playwright-core, and a static page server on a second port of 127.0.0.1, so that every page is
 * cross-origin to the encke server it talks to.
 *
 *   const browser = await launchBrowser();          // fresh --user-data-dir, removed on close
 *   const pages = await PageServer.start();          // test/pages/*, /sdk/ably.js, /sdk/ably1.js
 *   const page = await browser.open(pages.url('/pages/ably-driver.html?sdk=ably'));
 *   …
 *   await browser.close(); await pages.close();
 *
 * To drop a page's network mid-stream, point its client at a `KillableProxy` (./proxy.ts) in front
 * of the server and call `killAll()` (both TCP ends reset, as when a network drops) or `block()`.
 * `abortRequests` fails matching requests of a page before they leave the browser.
 * See /work/coord/BROWSER-HARNESS.md (and docs in test/README if any) for the usage notes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import type { ServerOptions } from '@encke/server';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startServer, type TestServer } from './server.js';

/** The flags every browser test runs Chromium with (project rules). */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The system Chromium: `which chromium`. Throws (the test fails, never skips) when it is missing. */
export function chromiumPath(): string {
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('chromium is not installed: run .ci/run (it apt-get installs it) or `apt-get install chromium`');
  }
}

/** One headless Chromium with its own profile directory; `close` removes both. */
export class TestBrowser {
  /** Everything pages printed (console and uncaught errors), prefixed with the page's URL path. */
  readonly log: string[] = [];

  private constructor(
    readonly context: BrowserContext,
    private readonly profile: string,
  ) {}

  static async launch(): Promise<TestBrowser> {
    const profile = await mkdtemp(join(tmpdir(), 'encke-chromium-'));
    // playwright passes --user-data-dir itself for a persistent context (it refuses it in `args`).
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath(),
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: { width: 800, height: 600 },
    });
    return new TestBrowser(context, profile);
  }

  /** A new page at `url`, its console and errors recorded in `log`. */
  async open(url: string): Promise<Page> {
    const page = await this.context.newPage();
    const where = new URL(url).pathname;
    page.on('console', (m) => this.log.push(`${where} console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => this.log.push(`${where} pageerror: ${e.message}`));
    await page.goto(url);
    return page;
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
    await rm(this.profile, { recursive: true, force: true });
  }
}

export const launchBrowser = (): Promise<TestBrowser> => TestBrowser.launch();

/**
 * Fails every request of `page` whose URL matches `pattern` (before it leaves the browser) until
 * the returned function is called. For cutting a stream already open, use a KillableProxy.
 */
export async function abortRequests(page: Page, pattern: RegExp): Promise<() => Promise<void>> {
  const handler = (route: import('playwright-core').Route): Promise<void> => route.abort('internetdisconnected');
  await page.route(pattern, handler);
  return () => page.unroute(pattern, handler);
}

// ---- the page server ----------------------------------------------------------------------------

const require = createRequire(import.meta.url);
/** test/pages, from test/dist/helpers/browser.js (or test/src/helpers when run from source). */
const PAGES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'pages');

/** The browser builds the page server offers, by URL path. */
export const SDK_BUILDS: Readonly<Record<string, string>> = {
  '/sdk/ably.js': join(dirname(require.resolve('ably')), 'ably.js'),
  '/sdk/ably1.js': join(dirname(require.resolve('ably1')), 'ably.js'),
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export type PageHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Serves test/pages under /pages/, the SDK browser builds under /sdk/, and whatever a test adds
 * with `route`, on 127.0.0.1 and a free port: another origin than the encke server's.
 */
export class PageServer {
  private readonly routes = new Map<string, PageHandler>();
  port = 0;

  private constructor(private readonly server: Server) {}

  static async start(): Promise<PageServer> {
    const pages: PageServer = new PageServer(createServer((req, res) => void pages.handle(req, res)));
    await new Promise<void>((resolve) => pages.server.listen(0, '127.0.0.1', resolve));
    pages.port = (pages.server.address() as AddressInfo).port;
    return pages;
  }

  /** This server's origin, e.g. `http://127.0.0.1:41234`. */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  url(path: string): string {
    return this.origin + path;
  }

  /** Serves `path` (exact, without the query) with `handler`, or with fixed HTML. */
  route(path: string, handler: PageHandler | string): void {
    this.routes.set(
      path,
      typeof handler === 'string' ? (_req, res) => send(res, 200, TYPES['.html']!, handler) : handler,
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const custom = this.routes.get(path);
    if (custom) return custom(req, res);
    const file = SDK_BUILDS[path] ?? pageFile(path);
    if (!file) return send(res, 404, 'text/plain', 'not found');
    try {
      send(res, 200, TYPES[extname(file)] ?? 'application/octet-stream', await readFile(file));
    } catch {
      send(res, 404, 'text/plain', 'not found');
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The file under test/pages that `/pages/<rest>` names; nothing outside it. */
function pageFile(path: string): string | undefined {
  if (!path.startsWith('/pages/')) return undefined;
  const file = normalize(join(PAGES_DIR, decodeURIComponent(path.slice('/pages/'.length))));
  return file.startsWith(PAGES_DIR + sep) ? file : undefined;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
}

/** What a browser test file shares: an encke server, the page server (another origin), Chromium. */
export interface BrowserFixture {
  ts: TestServer;
  pages: PageServer;
  browser: TestBrowser;
}

/**
 * Starts the server, the page server and Chromium before the tests of the enclosing suite and
 * stops them after; the fields are set once `before` has run.
 */
export function useBrowserFixture(options: ServerOptions = {}): BrowserFixture {
  const fixture = {} as BrowserFixture;
  before(async () => {
    fixture.ts = await startServer(options);
    fixture.pages = await PageServer.start();
    fixture.browser = await launchBrowser();
  });
  after(async () => {
    await fixture.browser?.close();
    await fixture.pages?.close();
    await fixture.ts?.close();
  });
  return fixture;
}
