/** What the token-auth bad-input tables (auth-bad-input*.test.ts) share. */
import assert from 'node:assert/strict';
import { Action } from '@encke/protocol';
import { fetchToken } from './auth.js';
import { RawClient } from './raw-ws.js';
import { KEYS } from './server.js';

/** A value past every size limit of a credential. */
export const HUGE = 'x'.repeat(20_000);
/** The key name of an API key (`app.key:secret` -> `app.key`). */
export const keyName = (key: string): string => key.slice(0, key.indexOf(':'));

/** The server on `port` still connects, attaches and publishes for a healthy token client. */
export async function serverStillServes(port: number): Promise<void> {
  const token = await fetchToken(port, KEYS.full, { clientId: 'healthy' });
  const c = await RawClient.open(port, `access_token=${encodeURIComponent(token)}&format=json&v=6`);
  await c.next(Action.CONNECTED);
  c.send({ action: Action.ATTACH, channel: 'health' });
  await c.next(Action.ATTACHED);
  c.send({ action: Action.MESSAGE, channel: 'health', msgSerial: 0, messages: [{ name: 'ok', data: 'fine' }] });
  await c.next(Action.ACK);
  assert.equal((await c.next(Action.MESSAGE)).messages?.[0]?.clientId, 'healthy');
  c.close();
}
