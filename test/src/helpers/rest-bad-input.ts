/** What the REST bad-input tests (rest-bad-input*.test.ts) share: their server and how they call it. */
import assert from 'node:assert/strict';
import { KEYS, startServer, type TestServer } from './server.js';

export const MAX_MESSAGE_SIZE = 2048;
export const MAX_BODY = 4096;
export const MAX_BATCH_CHANNELS = 5;

export const basic = (key: string): string => `Basic ${Buffer.from(key).toString('base64')}`;

export interface Request {
  method?: string;
  path: string;
  /** An API key for basic auth; null for none. Default: the full key. */
  key?: string | null;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

/** Sends `r` to the server on `port` at `path` (by default r.path), with basic auth by r.key. */
export async function callRest(port: number, r: Request, path: string = r.path): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...r.headers };
  const key = r.key === undefined ? KEYS.full : r.key;
  if (key !== null) headers.authorization = basic(key);
  return fetch(`http://127.0.0.1:${port}${path}`, {
    method: r.method ?? 'GET',
    headers,
    body: r.body,
  });
}

/** A server with the limits above and two messages ('one', 'two') on each of `known` and `other-channel`. */
export async function startSeededServer(): Promise<TestServer> {
  const ts = await startServer({
    maxMessageSize: MAX_MESSAGE_SIZE,
    maxRequestBodySize: MAX_BODY,
    maxBatchChannels: MAX_BATCH_CHANNELS,
  });
  try {
    for (const channel of ['known', 'other-channel']) {
      for (const data of ['one', 'two']) {
        assert.equal(
          (
            await callRest(ts.port, {
              method: 'POST',
              path: `/channels/${channel}/messages`,
              body: JSON.stringify({ data }),
            })
          ).status,
          201,
        );
      }
    }
  } catch (err) {
    await ts.close();
    throw err;
  }
  return ts;
}
