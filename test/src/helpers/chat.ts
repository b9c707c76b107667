/**
 * The chat demo (examples/chat) and the admin dashboard (packages/dashboard) in Chromium, driven the
 * way a person uses them: the transport picker, the join form, the composer, the dashboard's sign-in
 * link. A chat server serves the built chat at `/` (demo option) and the dashboard at `/admin`.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import type { ServerOptions } from '@encke/server';
import { after, before } from 'node:test';
import { launchBrowser, type TestBrowser } from './browser.js';
import { KillableProxy } from './proxy.js';
import { startServer, type TestServer } from './server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The built chat (npm run build). */
export const CHAT_DIST = join(ROOT, 'examples', 'chat', 'dist');
/** Where the tests write the screenshots the README shows. */
export const SCREENSHOTS = join(ROOT, 'docs', 'screenshots');
export const ADMIN_PASSWORD = 'test-admin-password-0001';
/** The probes installed in every page (test/pages/chat-probes.js). */
const PROBES = join(ROOT, 'test', 'pages', 'chat-probes.js');

export interface TypingEntry {
  t: number;
  text: string;
}

/** What test/pages/chat-probes.js gives the tests, in the page. */
export interface Probes {
  typingLog: TypingEntry[];
  arrivals: number[];
  now(): number;
  recordTyping(): void;
  recordArrivals(): void;
  members(): string[];
  hasMember(name: string): boolean;
  optionValues(selector: string): string[];
  text(selector: string): string | null;
  count(selector: string): number;
  overflowsSideways(): boolean;
  activeId(): string;
}

/** A page's global object with the probes (functions given to page.evaluate run in the page: they name it inline). */
export interface ProbeWindow {
  probes: Probes;
}

/** Installs the probes in every page `browser` opens from now on. */
export async function installProbes(browser: TestBrowser): Promise<void> {
  await browser.context.addInitScript({ path: PROBES });
}

/** One browser for the test file (with the probes), launched before its tests and closed after. */
export function useBrowser(): () => TestBrowser {
  let browser: TestBrowser | undefined;
  before(async () => {
    browser = await launchBrowser();
    await installProbes(browser);
  });
  after(async () => {
    await browser?.close();
  });
  return () => {
    if (!browser) throw new Error('the browser starts in before()');
    return browser;
  };
}

/** How long a member stays present after its network goes (the server's timeout under test). */
export const REMAIN_PRESENT_FOR = 1500;
/**
 * The server's idle limit under test: it also bounds how long a comet connection whose page went
 * away unannounced (a long-poll between polls) stays connected.
 */
export const MAX_IDLE_INTERVAL = 3000;

/** A server with the chat demo and the dashboard on, and short timeouts for presence and resume. */
export function startChatServer(options: ServerOptions = {}): Promise<TestServer> {
  return startServer({
    demo: true,
    demoAssets: CHAT_DIST,
    adminPassword: ADMIN_PASSWORD,
    presenceRemainPresentFor: REMAIN_PRESENT_FOR,
    maxIdleInterval: MAX_IDLE_INTERVAL,
    ...options,
  });
}

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return join(SCREENSHOTS, name);
}

/** Text of an element, '' when it is missing. */
async function text(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).first().textContent()) ?? '';
}

/** One person in the chat: a page of the demo, joined under `name` with `transport` forced in the picker. */
export class ChatPage {
  private constructor(
    readonly page: Page,
    readonly name: string,
    /** The page's own way to the server, when it was opened through one (to cut its network). */
    readonly proxy: KillableProxy | undefined,
  ) {}

  /**
   * Opens the chat (through a KillableProxy of its own when `cuttable`), picks `transport` in the
   * picker (undefined: automatic), joins `room` as `name` and waits until connected and present.
   */
  static async join(
    browser: TestBrowser,
    server: Pick<TestServer, 'port'>,
    name: string,
    transport: string | undefined,
    opts: { room?: string; cuttable?: boolean } = {},
  ): Promise<ChatPage> {
    const proxy = opts.cuttable ? await KillableProxy.start(server.port) : undefined;
    const port = proxy?.port ?? server.port;
    const page = await browser.open(`http://127.0.0.1:${port}/${opts.room ? `#room/${opts.room}` : ''}`);
    if (transport) await page.selectOption('#transport', transport);
    await page.fill('#join-name', name);
    await page.press('#join-name', 'Enter');
    const chat = new ChatPage(page, name, proxy);
    await chat.waitConnected(transport);
    await chat.waitMember(name);
    return chat;
  }

  async waitConnected(transport?: string): Promise<void> {
    const selector = transport
      ? `#conn[data-state="connected"][data-transport="${transport}"]`
      : '#conn[data-state="connected"]';
    await this.page.waitForSelector(selector, { timeout: 20_000 });
  }

  async transport(): Promise<string> {
    return (await this.page.getAttribute('#conn', 'data-transport')) ?? '';
  }

  /** Types `message` and presses Enter; returns the new row's message id. */
  async send(message: string): Promise<string> {
    await this.page.fill('#composer-text', message);
    await this.page.press('#composer-text', 'Enter');
    const row = this.page.locator('.message.own', { hasText: message }).last();
    await row.waitFor({ timeout: 5000 });
    return (await row.getAttribute('data-id')) ?? '';
  }

  /** Waits until a message with `message` in it is listed. */
  async waitMessage(message: string, timeout = 10_000): Promise<void> {
    await this.page.locator('.message', { hasText: message }).first().waitFor({ timeout });
  }

  async delivery(id: string): Promise<string> {
    return (await this.page.getAttribute(`.message[data-id="${id}"]`, 'data-delivery')) ?? '';
  }

  async waitDelivery(id: string, state: string, timeout = 10_000): Promise<void> {
    await this.page.waitForSelector(`.message[data-id="${id}"][data-delivery="${state}"]`, { timeout });
  }

  async messages(): Promise<string[]> {
    return this.page.locator('.message .text').allTextContents();
  }

  async members(): Promise<string[]> {
    return this.page.evaluate(() => (globalThis as unknown as ProbeWindow).probes.members());
  }

  async waitMember(name: string, timeout = 10_000): Promise<void> {
    await this.page.waitForFunction((n) => (globalThis as unknown as ProbeWindow).probes.hasMember(n), name, {
      timeout,
    });
  }

  async waitNoMember(name: string, timeout = 10_000): Promise<void> {
    await this.page.waitForFunction((n) => !(globalThis as unknown as ProbeWindow).probes.hasMember(n), name, {
      timeout,
    });
  }

  async typingText(): Promise<string> {
    return text(this.page, '#typing');
  }

  /**
   * Starts recording, in the page, when the typing line changes (page clock: Date.now(), the same
   * machine clock as every other page and the test).
   */
  async recordTyping(): Promise<void> {
    await this.page.evaluate(() => (globalThis as unknown as ProbeWindow).probes.recordTyping());
  }

  async typingLog(): Promise<TypingEntry[]> {
    return this.page.evaluate(() => (globalThis as unknown as ProbeWindow).probes.typingLog);
  }

  /** Records when rows are added to the message list (`arrivals`). */
  async recordArrivals(): Promise<void> {
    await this.page.evaluate(() => (globalThis as unknown as ProbeWindow).probes.recordArrivals());
  }

  async arrivals(): Promise<number[]> {
    return this.page.evaluate(() => (globalThis as unknown as ProbeWindow).probes.arrivals);
  }

  async now(): Promise<number> {
    return this.page.evaluate(() => (globalThis as unknown as ProbeWindow).probes.now());
  }

  /** Presses one key in the composer; resolves with the page's time of the keystroke. */
  async keystroke(key: string): Promise<number> {
    await this.page.focus('#composer-text');
    const before = await this.now();
    await this.page.keyboard.press(key);
    return before;
  }

  /** Cuts the page's network (both TCP ends reset, new connections refused). */
  cutNetwork(): void {
    if (!this.proxy) throw new Error(`${this.name} was not opened through a proxy`);
    this.proxy.block();
  }

  async close(): Promise<void> {
    if (!this.page.isClosed()) await this.page.close({ runBeforeUnload: true });
    await this.proxy?.close();
  }
}

/** Opens the dashboard through the ready link (`/admin#password=…`) and waits for the live feed. */
export async function openDashboard(browser: TestBrowser, server: Pick<TestServer, 'port'>): Promise<Page> {
  const page = await browser.open(
    `http://127.0.0.1:${server.port}/admin#password=${encodeURIComponent(ADMIN_PASSWORD)}`,
  );
  await page.waitForSelector('#feed[data-state="connected"]', { timeout: 15_000 });
  await page.waitForFunction(
    () => (globalThis as unknown as ProbeWindow).probes.text('[data-testid="connections-total"]') !== '–',
    null,
    { timeout: 15_000 },
  );
  return page;
}

/** The dashboard's connections figure. */
export async function dashboardConnections(page: Page): Promise<number> {
  return Number(await page.textContent('[data-testid="connections-total"]'));
}

/** The dashboard's messages in and out per second, as drawn last. */
export async function dashboardRates(page: Page): Promise<{ in: number; out: number }> {
  const value = async (id: string): Promise<number> =>
    Number((await page.getAttribute(`[data-testid="${id}"]`, 'data-value')) ?? 'NaN');
  return { in: await value('rate-in'), out: await value('rate-out') };
}

/** `name{labels} value` samples of a Prometheus text exposition (`GET /metrics`), by label set. */
export function metricSamples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m && m[1] === name) out.set(m[2] ?? '', Number(m[3]));
  }
  return out;
}

/** Connections `GET /metrics` counts (every transport and format). */
export async function metricsConnections(server: TestServer): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
  return [...metricSamples(text, 'encke_connections').values()].reduce((a, b) => a + b, 0);
}
