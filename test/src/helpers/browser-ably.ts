/**
 * The official ably-js browser builds (2.x `ably`, 1.2.50 `ably1`) inside a Chromium page, driven
 * from the test through test/pages/ably-driver.js: one page, any number of named clients.
 */
import type { Page } from 'playwright-core';
import type { PageServer, TestBrowser } from './browser.js';
import { KEYS } from './server.js';

export type Sdk = 'ably' | 'ably1';

/** What the driver reports of a message or presence member (plain data, copied out of the page). */
export interface PageMessage {
  name?: string;
  data?: unknown;
  id?: string;
  clientId?: string;
  connectionId?: string;
  action?: string;
}

export interface ConnectionInfo {
  state: string;
  id?: string;
  key?: string;
  /** The short name of the transport in use (`web_socket`, `xhr_polling`, …). */
  transport: string | null;
}

/** The driver's API as the page defines it (test/pages/ably-driver.js). */
interface Driver {
  version: 1 | 2;
  create(name: string, options: Record<string, unknown>): void;
  waitState(name: string, state: string, timeoutMs: number): Promise<string>;
  states(name: string): string[];
  activeTransports(name: string): string[];
  info(name: string): ConnectionInfo;
  subscribe(name: string, channel: string): Promise<void>;
  received(name: string, channel: string): PageMessage[];
  publish(name: string, channel: string, messageName: string, data: unknown): Promise<void>;
  enter(name: string, channel: string, data: unknown): Promise<void>;
  presence(name: string, channel: string): Promise<PageMessage[]>;
  history(name: string, channel: string): Promise<PageMessage[]>;
  close(name: string): Promise<void>;
}

type DriverWindow = { driver: Driver };

/**
 * Client options that point either SDK at an encke server on 127.0.0.1:`port` over `transports`
 * (undefined: the SDK's default order). 2.x names the host `endpoint`; 1.x `realtimeHost`/`restHost`.
 */
export function sdkOptions(
  sdk: Sdk,
  port: number,
  transports: string[] | undefined,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const host = sdk === 'ably' ? { endpoint: '127.0.0.1' } : { realtimeHost: '127.0.0.1', restHost: '127.0.0.1' };
  return {
    key: KEYS.full,
    ...host,
    port,
    tls: false,
    disableConnectivityCheck: true,
    logLevel: 1,
    ...(transports ? { transports } : {}),
    ...extra,
  };
}

/** A page that has loaded one SDK build and the driver. */
export class AblyPage {
  private constructor(
    readonly page: Page,
    readonly sdk: Sdk,
  ) {}

  static async open(browser: TestBrowser, pages: PageServer, sdk: Sdk): Promise<AblyPage> {
    const page = await browser.open(pages.url(`/pages/ably-driver.html?sdk=${sdk}`));
    await page.waitForFunction(() => 'driver' in globalThis);
    return new AblyPage(page, sdk);
  }

  /** Creates client `name` in the page with `options` (see `sdkOptions`). */
  async create(name: string, options: Record<string, unknown>): Promise<PageClient> {
    await this.page.evaluate(([n, o]) => (globalThis as unknown as DriverWindow).driver.create(n, o), [
      name,
      options,
    ] as const);
    return new PageClient(this.page, name);
  }

  close(): Promise<void> {
    return this.page.close();
  }
}

/** One SDK client living in a page. */
export class PageClient {
  constructor(
    readonly page: Page,
    readonly name: string,
  ) {}

  private call<A extends unknown[], R>(
    fn: (d: Driver, name: string, ...args: A) => R | Promise<R>,
    ...args: A
  ): Promise<R> {
    // The function runs in the page: it is serialised there with its arguments.
    return this.page.evaluate(
      ([src, n, a]) => {
        const d = (globalThis as unknown as DriverWindow).driver;
        return (
          new Function('d', 'n', 'a', `return (${src})(d, n, ...a)`) as (d: Driver, n: string, a: unknown[]) => unknown
        )(d, n, a);
      },
      [fn.toString(), this.name, args] as const,
    ) as Promise<R>;
  }

  waitState(state: string, timeoutMs = 15_000): Promise<string> {
    return this.call((d, n, s: string, t: number) => d.waitState(n, s, t), state, timeoutMs);
  }

  states(): Promise<string[]> {
    return this.call((d, n) => d.states(n));
  }

  /** `<transport> <connectionId>` for every transport that became active, in order. */
  activeTransports(): Promise<string[]> {
    return this.call((d, n) => d.activeTransports(n));
  }

  info(): Promise<ConnectionInfo> {
    return this.call((d, n) => d.info(n));
  }

  subscribe(channel: string): Promise<void> {
    return this.call((d, n, c: string) => d.subscribe(n, c), channel);
  }

  received(channel: string): Promise<PageMessage[]> {
    return this.call((d, n, c: string) => d.received(n, c), channel);
  }

  /** Waits until `channel` has received at least `count` messages, and returns them all. */
  async waitReceived(channel: string, count: number, timeoutMs = 15_000): Promise<PageMessage[]> {
    await this.page.waitForFunction(
      ([n, c, k]) => (globalThis as unknown as DriverWindow).driver.received(n, c).length >= k,
      [this.name, channel, count] as const,
      { timeout: timeoutMs, polling: 50 },
    );
    return this.received(channel);
  }

  publish(channel: string, messageName: string, data: unknown): Promise<void> {
    return this.call((d, n, c: string, m: string, x: unknown) => d.publish(n, c, m, x), channel, messageName, data);
  }

  enter(channel: string, data: unknown): Promise<void> {
    return this.call((d, n, c: string, x: unknown) => d.enter(n, c, x), channel, data);
  }

  presence(channel: string): Promise<PageMessage[]> {
    return this.call((d, n, c: string) => d.presence(n, c), channel);
  }

  history(channel: string): Promise<PageMessage[]> {
    return this.call((d, n, c: string) => d.history(n, c), channel);
  }

  close(): Promise<void> {
    return this.call((d, n) => d.close(n));
  }
}
