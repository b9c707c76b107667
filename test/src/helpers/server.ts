/** Starts a real encke server on 127.0.0.1 and a free port, with a test app and keys. */
import { createServer, type AppConfig, type EnckeNode, type ServerOptions } from '@encke/server';

export const APP_ID = 'testapp';

/** Keys of the test app, by role. */
export const KEYS = {
  full: `${APP_ID}.full:full-secret-0001`,
  subscribeOnly: `${APP_ID}.subonly:subonly-secret-01`,
  limited: `${APP_ID}.limited:limited-secret-001`,
  revocable: `${APP_ID}.revocable:revocable-secret-01`,
  other: 'otherapp.main:other-secret-0001',
} as const;

export const TEST_APPS: AppConfig[] = [
  {
    id: APP_ID,
    keys: [
      { key: KEYS.full },
      { key: KEYS.subscribeOnly, capability: { '*': ['subscribe'] } },
      { key: KEYS.limited, capability: { 'allowed:*': ['*'], 'readonly:*': ['subscribe'] } },
      { key: KEYS.revocable, revocableTokens: true },
    ],
    // As the sandbox's test app (ably-common test-app-setup.json): updates, deletes, appends and annotations.
    namespaces: [{ id: 'mutable', mutableMessages: true }],
  },
  { id: 'otherapp', keys: [{ key: KEYS.other }] },
];

export interface TestServer {
  server: EnckeNode;
  port: number;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const server = createServer({ host: '127.0.0.1', port: 0, apps: TEST_APPS, ...options });
  const address = await server.listen();
  return { server, port: address.port, close: () => server.close() };
}
