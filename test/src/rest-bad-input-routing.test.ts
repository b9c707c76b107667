/**
 * REST requests routed right, on a server set up as in rest-bad-input.test.ts: an absolute-form
 * request target (as proxies send it) like its path and query, and no request reading another app's
 * data.
 */
import assert from 'node:assert/strict';
import { connect as connectTcp } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isArrayValue, isPlainObject } from '@encke/protocol';
import { jsonAs, objectField, responseObject, responseObjects } from './helpers/json.js';
import { basic, callRest, startSeededServer, type Request } from './helpers/rest-bad-input.js';
import { KEYS, type TestServer } from './helpers/server.js';

/** A page of a channel's history as JSON: an array of message objects. */
const isMessagePage = (v: unknown): v is Record<string, unknown>[] => isArrayValue(v) && v.every(isPlainObject);

describe('rest bad input', () => {
  let ts: TestServer;
  const call = (r: Request): Promise<Response> => callRest(ts.port, r);

  before(async () => {
    ts = await startSeededServer();
  });
  after(async () => {
    await ts.close();
  });

  it('routes an absolute-form request target (as proxies send it) like its path and query', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connectTcp(ts.port, '127.0.0.1', () => {
        socket.end(
          `GET http://127.0.0.1:${ts.port}/channels/known/messages?limit=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${basic(KEYS.full)}\r\nConnection: close\r\n\r\n`,
        );
      });
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 200 /);
    assert.deepEqual(
      jsonAs(raw.slice(raw.indexOf('\r\n\r\n') + 4), isMessagePage, 'a page of messages').map((m) => m.data),
      ['two'],
    );
  });

  it("never shows one app's channels, history or stats to another app's key", async () => {
    const history = await call({ key: KEYS.other, path: '/channels/known/messages' });
    assert.equal(history.status, 200);
    assert.deepEqual(await history.json(), []);
    const status = objectField(
      await responseObject(await call({ key: KEYS.other, path: '/channels/known' })),
      'status',
    );
    assert.equal(status.isActive, false);
    assert.deepEqual(await (await call({ key: KEYS.other, path: '/channels?by=id' })).json(), []);
    const stats = await responseObjects(await call({ key: KEYS.other, path: '/stats' }));
    assert.ok(
      stats.every((s) => !objectField(s, 'entries')['messages.inbound.rest.messages.count']),
      'no messages counted for the other app',
    );
  });
});
