/** HTTP and SDK helpers for the web apps' server side (web-apps.test.ts, admin-dashboard.test.ts). */
import assert from 'node:assert/strict';
import * as Ably from 'ably';
import { ADMIN_PASSWORD } from './chat.js';
import type { TestServer } from './server.js';

/** The node's HTTP origin. */
export const base = (ts: TestServer): string => `http://127.0.0.1:${ts.port}`;

export function sdk(ts: TestServer, options: Ably.ClientOptions): Ably.Realtime {
  return new Ably.Realtime({
    endpoint: '127.0.0.1',
    port: ts.port,
    tls: false,
    logLevel: 0,
    disableConnectivityCheck: true,
    ...options,
  });
}

export async function errorCode(res: Response): Promise<number | undefined> {
  const body = (await res.json().catch(() => ({}))) as { error?: { code?: number } };
  return body.error?.code;
}

/** Signs in; returns the session cookie (name=value). */
export async function signIn(ts: TestServer, password = ADMIN_PASSWORD): Promise<string> {
  const res = await fetch(`${base(ts)}/admin/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ password }),
  });
  assert.equal(res.status, 204);
  return (res.headers.get('set-cookie') ?? '').split(';')[0]!;
}
