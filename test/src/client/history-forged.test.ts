/**
 * REST history answers the client does not control (packages/client/src/channel/paginated.ts): the
 * real server for the connection, a fetch double that forges the history answer. A page whose JSON
 * is not an array of message (or presence) items fails with 50000, as a malformed answer does,
 * instead of items that are not what they claim (or a TypeError while decoding them).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Realtime } from '@encke/client';
import { CLIENT_VARIANTS, closeClients, enckeClient, reach } from '../helpers/encke-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

describe('@encke/client history: a forged answer', () => {
  let ts: TestServer;
  let c: Realtime;
  /** What the fetch double answers for the channel `forged` (history and presence history). */
  let answer: unknown = [];
  before(async () => {
    ts = await startServer();
    const forged: typeof fetch = (input, init) =>
      String(input instanceof Request ? input.url : input).includes('/channels/forged/')
        ? Promise.resolve(Response.json(answer))
        : fetch(input, init);
    c = enckeClient(ts, CLIENT_VARIANTS[0]!, { fetch: forged });
    await reach(c, 'connected');
  });
  after(async () => {
    await closeClients(c);
    await ts.close();
  });

  const rejects50000 = (p: Promise<unknown>): Promise<void> =>
    assert.rejects(p, (e: { code?: unknown; message?: unknown }) => {
      assert.equal(e.code, 50000);
      assert.match(String(e.message), /no array of items/);
      return true;
    });

  it('well-formed items are decoded (the double answers)', async () => {
    answer = [{ id: 'm1', name: 'n', data: '{"a":1}', encoding: 'json', timestamp: 1 }];
    const page = await c.channels.get('forged').history();
    assert.deepEqual(
      page.items.map((m) => [m.id, m.data]),
      [['m1', { a: 1 }]],
    );
    answer = [{ action: 2, clientId: 'x', connectionId: 'c', data: 'here' }];
    const presence = await c.channels.get('forged').presence.history();
    assert.deepEqual(
      presence.items.map((p) => [p.action, p.clientId, p.data]),
      [['enter', 'x', 'here']],
    );
  });

  it('an item that is no object: 50000', async () => {
    for (const bad of [5, null, 'text', ['nested']]) {
      answer = [{ name: 'fine' }, bad];
      await rejects50000(c.channels.get('forged').history());
    }
  });

  it('an item with a field of another type (an encoding that is no string; extras null): 50000, not a TypeError', async () => {
    answer = [{ name: 'n', data: 'x', encoding: 7 }];
    await rejects50000(c.channels.get('forged').history());
    answer = [{ name: 'n', extras: null }];
    await rejects50000(c.channels.get('forged').history());
  });

  it('a presence item without its action: 50000', async () => {
    answer = [{ clientId: 'x', connectionId: 'c' }];
    await rejects50000(c.channels.get('forged').presence.history());
  });

  it('JSON that is no array: 50000 (not an empty page)', async () => {
    answer = { items: [] };
    await rejects50000(c.channels.get('forged').history());
  });
});
