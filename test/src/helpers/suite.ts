/**
 * One test server shared by the tests of a describe block (node:test hooks): started before the
 * first test, closed after the last. What a test opens on it (raw clients, spies, watches) it hands
 * to `own`, which stops or closes it after that test, pass or fail, so the next test starts clean:
 * spies and watches are stopped first (they see nothing of the clean-up), then clients closed.
 */
import { after, afterEach, before } from 'node:test';
import type { ServerOptions } from '@encke/server';
import { startServer, type TestServer } from './server.js';

/** Something a test opened: a spy or watch is stopped, a client closed. */
export type Owned = { stop(): void } | { close(): void };

export interface SuiteServer {
  /** The server; started in `before`, so read it in tests and hooks, not while the suite is declared. */
  readonly ts: TestServer;
  /** `thing`, stopped or closed after the current test. */
  own<T extends Owned>(thing: T): T;
}

/**
 * Registers the hooks of the calling describe block and returns its server. `options` may be a function,
 * read in `before` (for what is known only then, e.g. the URL of a Redis started by an outer hook).
 */
export function serverPerSuite(options: ServerOptions | (() => ServerOptions) = {}): SuiteServer {
  let server: TestServer | undefined;
  const owned: Owned[] = [];
  before(async () => {
    server = await startServer(typeof options === 'function' ? options() : options);
  });
  afterEach(() => {
    const all = owned.splice(0);
    for (const o of all) if ('stop' in o) o.stop();
    for (const o of all) if (!('stop' in o)) o.close();
  });
  after(async () => {
    await server?.close();
  });
  return {
    get ts(): TestServer {
      if (!server) throw new Error('the suite server starts in before(): read it inside a test or hook');
      return server;
    },
    own<T extends Owned>(thing: T): T {
      owned.push(thing);
      return thing;
    },
  };
}
