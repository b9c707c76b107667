/**
 * What the channel log keeps of a publish is flat (util/flat-string.ts): the event's id and serial
 * and each message's id and serial are sequential strings, not cons strings (V8's pair of pointers
 * for a `+` or template of 13 characters or more, which the fan-out's write then flattened into a
 * second string while the log kept the pair: two or three objects per string, each copied by the
 * scavenges it survives; bench S7). Checked with V8's `%HaveSameMap` against a sequential one-byte
 * string (natives syntax, enabled in this test process only), over the wire in JSON and msgpack,
 * after a subscriber's fan-out.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Action, type Format } from '@encke/protocol';
import { channelKey } from '@encke/server/internal';
import { RawClient } from './helpers/raw-ws.js';
import { APP_ID, KEYS, startServer, type TestServer } from './helpers/server.js';
import { haveSameMap } from './helpers/same-map.js';

/** A sequential one-byte string that is not internalized, as join makes them. */
const SEQUENTIAL = ['sequential-', String(Date.now())].join('');
const isSequential = (s: string | undefined): boolean => s !== undefined && haveSameMap(s, SEQUENTIAL);

describe('what the channel log keeps of a publish', () => {
  let ts: TestServer;
  const clients: RawClient[] = [];

  before(async () => {
    ts = await startServer();
  });
  after(async () => {
    for (const c of clients) c.close();
    await ts.close();
  });

  it('can tell a cons string from a sequential one', () => {
    const prefix = ['connection-', String(Date.now())].join('');
    assert.equal(isSequential(prefix), true);
    assert.equal(isSequential(`${prefix}:0`), false, 'a template of 13 characters or more is a cons string');
  });

  for (const format of ['json', 'msgpack'] as const satisfies readonly Format[]) {
    it(`keeps ids and serials as sequential strings, after the fan-out wrote them (${format})`, async () => {
      const channel = `stored-strings-${format}`;
      const subscriber = await RawClient.connect(ts.port, KEYS.full, format);
      const publisher = await RawClient.connect(ts.port, KEYS.full, format);
      clients.push(subscriber, publisher);
      subscriber.send({ action: Action.ATTACH, channel });
      await subscriber.next(Action.ATTACHED);
      const batch = [{ data: 'a' }, { name: 'n', data: 'b' }, { data: 'c' }];
      const publishes = [batch, [{ data: 'd' }]];
      for (let msgSerial = 0; msgSerial < publishes.length; msgSerial++) {
        publisher.send({ action: Action.MESSAGE, channel, msgSerial, messages: publishes[msgSerial] });
        assert.equal((await publisher.next(Action.ACK)).msgSerial, msgSerial);
        await subscriber.next(Action.MESSAGE);
      }

      const store = ts.server.engine.channels;
      const key = channelKey(APP_ID, channel);
      const { head } = await store.attachState(key, { replayLimit: 10, members: false });
      const state = await store.attachState(key, {
        from: { epoch: head.epoch, seq: 0 },
        replayLimit: 10,
        members: false,
      });
      const events = state.replay?.events ?? [];
      assert.equal(events.length, 2);
      for (const event of events) {
        assert.equal(isSequential(event.id), true, `event id ${event.id}`);
        assert.equal(isSequential(event.serial), true, `event serial ${event.serial}`);
        for (const m of event.messages ?? []) {
          assert.equal(isSequential(m.id), true, `message id ${m.id}`);
          assert.equal(isSequential(m.serial), true, `message serial ${m.serial}`);
        }
      }
      assert.equal(events[0]!.messages?.length, 3);
    });
  }
});
