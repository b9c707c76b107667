/**
 * A WebSocket open with a configured API key and no resume makes no promise (issue 19, open rate):
 * openConnection answers CONNECTED and returns within the upgrade, so neither the open's async
 * function nor a `.catch` on it is made. Opens that wait (a token, a resume) still return a promise.
 * Observed on the server with node's promise hook between the transport's start and the end of
 * the upgrade's open (the `accepting` flag cleared), with real clients over the wire.
 */
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { describe, it } from 'node:test';
import { Action } from '@encke/protocol';
import { WebSocketTransport } from '@encke/server/internal';
import { fetchToken } from './helpers/auth.js';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS } from './helpers/server.js';
import { serverPerSuite } from './helpers/suite.js';

/** Promises made while the server runs a WebSocket open within its upgrade, one count per open, until `stop`. */
function promisesPerOpen(): { counts: number[]; stop: () => void } {
  const proto = WebSocketTransport.prototype;
  const { start } = proto;
  const accepting = Object.getOwnPropertyDescriptor(proto, 'accepting');
  assert.ok(accepting?.set, 'the transport has an accepting setter');
  const setAccepting = accepting.set;
  const counts: number[] = [];
  let opening = false;
  const hook = createHook({
    init(_id, type) {
      if (opening && type === 'PROMISE') counts[counts.length - 1]!++;
    },
  });
  hook.enable();
  proto.start = function (this: WebSocketTransport, ...args: Parameters<typeof start>) {
    counts.push(0);
    opening = true;
    return start.apply(this, args);
  };
  Object.defineProperty(proto, 'accepting', {
    ...accepting,
    set(this: WebSocketTransport, on: boolean) {
      setAccepting.call(this, on);
      // Cleared by the upgrade handler once openConnection returned.
      if (!on) opening = false;
    },
  });
  return {
    counts,
    stop: () => {
      hook.disable();
      proto.start = start;
      Object.defineProperty(proto, 'accepting', accepting);
    },
  };
}

describe('an open with a configured key returns at once', () => {
  const suite = serverPerSuite();

  for (const format of ['json', 'msgpack'] as const) {
    it(`a key, no resume: no promise is made within the upgrade, and the connection works (${format})`, async () => {
      const watch = suite.own(promisesPerOpen());
      const c = suite.own(await RawClient.connect(suite.ts.port, KEYS.full, format));
      assert.deepEqual(watch.counts, [0]);
      c.send({ action: Action.ATTACH, channel: `at-once-${format}` });
      await c.next(Action.ATTACHED);
    });

    it(`a wrong key is refused within the upgrade, without a promise (${format})`, async () => {
      const watch = suite.own(promisesPerOpen());
      const c = suite.own(
        await RawClient.open(suite.ts.port, `key=${encodeURIComponent(`${KEYS.full}x`)}&format=${format}&v=6`, format),
      );
      const err = await c.next(Action.ERROR);
      assert.equal(err.error?.code, 40101);
      assert.deepEqual(watch.counts, [0]);
    });
  }

  it('a token (verified asynchronously) and a resume still wait: the open returns a promise', async () => {
    const token = await fetchToken(suite.ts.port, KEYS.full, { clientId: 'waits' });
    const watch = suite.own(promisesPerOpen());
    const t = suite.own(
      await RawClient.open(suite.ts.port, `access_token=${encodeURIComponent(token)}&format=json&v=6`, 'json'),
    );
    const connected = await t.next(Action.CONNECTED);
    const key = connected.connectionDetails?.connectionKey;
    assert.ok(key);
    t.close();
    const r = suite.own(
      await RawClient.connect(suite.ts.port, KEYS.full, 'json', `&resume=${encodeURIComponent(key)}`),
    );
    assert.equal(watch.counts.length, 2);
    assert.ok(watch.counts[0]! > 0, 'the token open made its promise');
    assert.ok(watch.counts[1]! > 0, 'the resume made its promise');
  });
});
