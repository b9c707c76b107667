/**
 * With the memory engine a publish's log entry is written as bytes (engine/memory/packed-log.ts, v8's
 * serializer) after the tick's fan-out, not before it (issue 19: a publish's path to its first
 * subscriber's write), and nothing can tell: a read of the log in the same tick (an ATTACH with
 * rewind or a resume's channelSerial in the read that brought the publish) packs first and sees the
 * event exactly as published; history after it as well. Real server, real clients; JSON and msgpack.
 */
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { Action, Flag, isArrayValue, isPlainObject, type Format, type ProtocolMessage } from '@encke/protocol';
import { PackedLog, WebSocketTransport } from '@encke/server/internal';
import { field } from './helpers/field.js';
import { jsonValue } from './helpers/json.js';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS } from './helpers/server.js';
import { serverPerSuite } from './helpers/suite.js';

/**
 * What happened, in order: subscribers' socket writes, packs (with the events they wrote and the events
 * the log then held), reads of a log's contents.
 */
type Step = 'write' | `pack ${number}` | `held ${number}` | `read ${number}`;

/** Counts immediates queued while a client message is handled (the read that brought it). */
interface Watch {
  steps: Step[];
  immediates: number[];
  stop(): void;
}

function watchLog(): Watch {
  const log = PackedLog.prototype;
  const transport = WebSocketTransport.prototype;
  const { pack, at } = log;
  const { writeOne, handleMessage } = transport;
  const immediate = globalThis.setImmediate;
  const steps: Step[] = [];
  const immediates: number[] = [];
  transport.handleMessage = function (this: WebSocketTransport, ...args: Parameters<typeof handleMessage>) {
    let queued = 0;
    globalThis.setImmediate = Object.assign(
      (...a: Parameters<typeof immediate>) => {
        queued++;
        return immediate(...a);
      },
      { __promisify__: immediate.__promisify__ },
    );
    try {
      handleMessage.apply(this, args);
    } finally {
      globalThis.setImmediate = immediate;
      immediates.push(queued);
    }
  };
  log.pack = function (this: PackedLog) {
    const unpacked = this.unpackedCount;
    if (unpacked > 0) steps.push(`pack ${unpacked}`);
    pack.call(this);
    if (unpacked > 0) steps.push(`held ${this.length}`);
  };
  log.at = function (this: PackedLog, i: number) {
    steps.push(`read ${this.unpackedCount}`);
    return at.call(this, i);
  };
  transport.writeOne = function (this: WebSocketTransport, ...args: Parameters<typeof writeOne>) {
    steps.push('write');
    return writeOne.apply(this, args);
  };
  return {
    steps,
    immediates,
    stop: () => {
      log.pack = pack;
      log.at = at;
      transport.writeOne = writeOne;
      transport.handleMessage = handleMessage;
    },
  };
}

/** Sends `frames` in one socket write, so that the server reads them in one read (one tick). */
function sendTogether(client: RawClient, frames: ProtocolMessage[]): void {
  const socket = field(client.ws, '_socket');
  assert.ok(socket instanceof Socket, "ws's socket");
  socket.cork();
  for (const pm of frames) client.send(pm);
  socket.uncork();
}

describe("a publish's log entry, written after its fan-out", () => {
  const suite = serverPerSuite({ channelLogMaxCount: 3 });

  async function attached(format: Format, channel: string, params?: Record<string, string>): Promise<RawClient> {
    const client = suite.own(await RawClient.connect(suite.ts.port, KEYS.full, format));
    client.send({ action: Action.ATTACH, channel, ...(params ? { params } : {}) });
    await client.next(Action.ATTACHED);
    return client;
  }

  for (const format of ['json', 'msgpack'] as const satisfies readonly Format[]) {
    it(`is written once the subscribers' writes are done, in the same tick (${format})`, async () => {
      const channel = `log-after-${format}`;
      const a = await attached(format, channel);
      const b = await attached(format, channel);
      const publisher = await attached(format, `${channel}-other`);
      const watch = suite.own(watchLog());
      publisher.send({ action: Action.MESSAGE, channel, msgSerial: 0, messages: [{ name: 'n', data: 'first' }] });
      assert.equal((await publisher.next(Action.ACK)).msgSerial, 0);
      for (const sub of [a, b]) assert.equal((await sub.next(Action.MESSAGE)).messages?.[0]?.data, 'first');
      // The subscribers' writes and the publisher's ACK, then the log entry.
      assert.deepEqual(watch.steps, ['write', 'write', 'write', 'pack 1', 'held 1']);
      assert.deepEqual(watch.immediates, [1], "the publish's read queued the flush's immediate, none for the log");
    });

    it(`is read exactly by an ATTACH with rewind in the read that brought the publish (${format})`, async () => {
      const channel = `log-rewind-${format}`;
      const sub = await attached(format, channel);
      const client = suite.own(await RawClient.connect(suite.ts.port, KEYS.full, format));
      const watch = suite.own(watchLog());
      const data = format === 'json' ? 'same tick \u00e9' : Buffer.from([0, 1, 2, 250]);
      sendTogether(client, [
        { action: Action.MESSAGE, channel, msgSerial: 0, messages: [{ name: 'tick', data, extras: { x: 1 } }] },
        { action: Action.ATTACH, channel, params: { rewind: '1' } },
      ]);
      assert.equal((await client.next(Action.ACK)).msgSerial, 0);
      const att = await client.next(Action.ATTACHED);
      assert.equal((att.flags ?? 0) & Flag.RESUMED, 0);
      const rewound = await client.next(Action.MESSAGE);
      const live = await sub.next(Action.MESSAGE);
      assert.deepEqual(rewound.messages, live.messages, 'the rewind gives the message as the fan-out did');
      const got = rewound.messages?.[0]?.data;
      assert.deepEqual(typeof got === 'string' ? got : Buffer.from(got ?? []), data);
      assert.deepEqual(rewound.messages?.[0]?.extras, { x: 1 });
      // The rewind read the log before the tick's pack: its read packed the event, nothing was left after.
      assert.deepEqual(watch.steps.slice(0, 2), ['read 1', 'pack 1'], 'read and packed in the same tick');
      assert.equal(watch.steps.filter((s) => s.startsWith('pack')).length, 1, 'nothing left to pack after it');
    });

    it(`is read exactly by a resume in the read that brought the publish, and by history after it (${format})`, async () => {
      const channel = `log-resume-${format}`;
      const first = await attached(format, channel);
      const client = suite.own(await RawClient.connect(suite.ts.port, KEYS.full, format));
      client.send({ action: Action.ATTACH, channel });
      const from = (await client.next(Action.ATTACHED)).channelSerial;
      client.send({ action: Action.DETACH, channel });
      await client.next(Action.DETACHED);
      const watch = suite.own(watchLog());
      sendTogether(client, [
        { action: Action.MESSAGE, channel, msgSerial: 0, messages: [{ data: 'resumed-1' }, { data: 'resumed-2' }] },
        { action: Action.ATTACH, channel, channelSerial: from },
      ]);
      const res = (await client.next(Action.ACK)).res;
      const att = await client.next(Action.ATTACHED);
      assert.equal((att.flags ?? 0) & Flag.RESUMED, Flag.RESUMED, 'resumed from its channelSerial');
      const replayed = await client.next(Action.MESSAGE);
      assert.deepEqual(
        replayed.messages?.map((m) => [m.data, m.serial]),
        [
          ['resumed-1', res?.[0]?.serials?.[0]],
          ['resumed-2', res?.[0]?.serials?.[1]],
        ],
      );
      assert.deepEqual(watch.steps.slice(0, 2), ['read 1', 'pack 1'], 'read and packed in the same tick');
      assert.equal(watch.steps.filter((s) => s.startsWith('pack')).length, 1, 'nothing left to pack after it');
      const live = await first.next(Action.MESSAGE);
      assert.deepEqual(replayed.messages, live.messages);
      const page = await fetch(`http://127.0.0.1:${suite.ts.port}/channels/${channel}/messages?direction=forwards`, {
        headers: { authorization: `Basic ${Buffer.from(KEYS.full).toString('base64')}` },
      });
      const items = jsonValue(await page.text());
      assert.ok(isArrayValue(items));
      assert.deepEqual(
        items.map((m) => (isPlainObject(m) ? m.data : undefined)),
        ['resumed-1', 'resumed-2'],
      );
    });
  }

  it('is written, and the log trimmed, after a REST publish that no connection hears (an immediate of its own)', async () => {
    const channel = 'log-rest-unheard';
    const auth = { authorization: `Basic ${Buffer.from(KEYS.full).toString('base64')}` };
    const watch = suite.own(watchLog());
    for (let i = 1; i <= 5; i++) {
      const res = await fetch(`http://127.0.0.1:${suite.ts.port}/channels/${channel}/messages`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ data: `rest-${i}` }),
      });
      assert.equal(res.status, 201);
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Each publish's event written once, the log trimmed to channelLogMaxCount (3) before it (the writes
    // are other tests' connections closing).
    assert.deepEqual(
      watch.steps.filter((s) => s !== 'write'),
      ['pack 1', 'held 1', 'pack 1', 'held 2', 'pack 1', 'held 3', 'pack 1', 'held 3', 'pack 1', 'held 3'],
    );
    const page = await fetch(`http://127.0.0.1:${suite.ts.port}/channels/${channel}/messages`, { headers: auth });
    const items = jsonValue(await page.text());
    assert.ok(isArrayValue(items));
    assert.deepEqual(
      items.map((m) => (isPlainObject(m) ? m.data : undefined)),
      ['rest-5', 'rest-4', 'rest-3'],
    );
  });
});
