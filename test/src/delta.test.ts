/**
 * Delta compression with the official SDK and its vcdiff plugin (@ably/vcdiff-decoder), over
 * WebSocket (JSON, msgpack) and comet (streaming, long polling): a channel of 100 messages reaches every delta subscriber
 * exactly as published, most of it as deltas (counted at the decoder), subscribers attached at
 * different points each get a consistent chain, and a decode failure recovers (RTL18): the SDK
 * re-attaches from its last serial and the server restarts the chain with a whole message.
 */
import { dataOf } from './helpers/field.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as Ably from 'ably';
import * as vcdiffDecoder from '@ably/vcdiff-decoder';
import { COMET_VARIANTS, Collector, WS_VARIANTS, closeAll, connect, realtime } from './helpers/ably.js';
import { startServer, type TestServer } from './helpers/server.js';

const MESSAGES = 100;

/** A vcdiff plugin that counts what it decodes, and can fail once on its `failAt`-th call. */
class CountingDecoder {
  calls = 0;
  deltaBytes = 0;
  targetBytes = 0;
  failed = false;
  constructor(private readonly failAt = 0) {}
  decode = (delta: Uint8Array, base: Uint8Array): Uint8Array => {
    this.calls++;
    if (this.calls === this.failAt && !this.failed) {
      this.failed = true;
      throw new Error('forced decode failure');
    }
    const out = vcdiffDecoder.decode(delta, base);
    this.deltaBytes += delta.length;
    this.targetBytes += out.length;
    return out;
  };
}

/** Message i of the stream: a ~1 KB JSON document changing a little each time; every 10th is binary, every 15th a string. */
function payload(i: number): unknown {
  const doc = {
    seq: i,
    prices: Array.from({ length: 20 }, (_, k) => ({
      sym: `SYM${k}`,
      px: 100 + k + (k === i % 20 ? i : 0),
      vol: 1000 * k,
    })),
  };
  if (i % 10 === 9) return Buffer.from(JSON.stringify(doc));
  if (i % 15 === 14) return `text ${JSON.stringify(doc)}`;
  return doc;
}

function comparable(data: unknown): unknown {
  return Buffer.isBuffer(data) || data instanceof Uint8Array
    ? { bytes: Buffer.from(data as Uint8Array).toString('base64') }
    : data;
}

for (const variant of [...WS_VARIANTS, ...COMET_VARIANTS]) {
  describe(`delta: ${variant.name}`, () => {
    let ts: TestServer;
    before(async () => {
      ts = await startServer();
    });
    after(async () => {
      await ts.close();
    });

    it(`delivers a channel of ${MESSAGES} messages as deltas, whole to each subscriber, and recovers from a decode failure`, async (t) => {
      const name = `delta-${variant.format}-${variant.transport}`;
      const early = new CountingDecoder();
      const late = new CountingDecoder();
      const failing = new CountingDecoder(10);
      const publisher = await connect(realtime(ts, variant));
      const a = await connect(realtime(ts, variant, { plugins: { vcdiff: early } }));
      const b = await connect(realtime(ts, variant, { plugins: { vcdiff: late } }));
      const c = await connect(realtime(ts, variant, { plugins: { vcdiff: failing } }));
      try {
        const got = { a: new Collector(), b: new Collector(), c: new Collector() };
        const chA = a.channels.get(name, { params: { delta: 'vcdiff' } });
        const chC = c.channels.get(name, { params: { delta: 'vcdiff' } });
        await chA.subscribe(got.a.listener);
        await chC.subscribe(got.c.listener);
        assert.equal(chA.params.delta, 'vcdiff', 'ATTACHED echoes the delta param');
        const reasons: (number | undefined)[] = [];
        chC.on('attaching', (change) => reasons.push(change.reason?.code));
        const unexpected: string[] = [];
        chA.on('attaching', (change) => unexpected.push(`a: ${change.reason?.message ?? ''}`));

        const pub = publisher.channels.get(name);
        for (let i = 0; i < MESSAGES; i++) {
          if (i === 30) {
            const chB = b.channels.get(name, { params: { delta: 'vcdiff' } });
            await chB.subscribe(got.b.listener);
            chB.on('attaching', (change) => unexpected.push(`b: ${change.reason?.message ?? ''}`));
          }
          await pub.publish(String(i), payload(i));
        }
        await got.a.waitFor(MESSAGES);
        await got.b.waitFor(MESSAGES - 30);
        await got.c.waitFor(MESSAGES);

        const published = Array.from({ length: MESSAGES }, (_, i) => [String(i), comparable(payload(i))]);
        const stream = (col: Collector): unknown[] => col.items.map((m) => [m.name, comparable(dataOf(m))]);
        assert.deepEqual(stream(got.a), published);
        assert.deepEqual(stream(got.b), published.slice(30));
        assert.deepEqual(stream(got.c), published, 'the failing subscriber lost and repeated nothing');

        // Deltas were really sent: all but the first message (and any that did not pay) to A.
        assert.ok(early.calls >= MESSAGES - 15, `subscriber a decoded ${early.calls} deltas`);
        assert.ok(late.calls >= MESSAGES - 30 - 15, `subscriber b decoded ${late.calls} deltas`);
        assert.ok(
          early.deltaBytes * 10 < early.targetBytes,
          `deltas ${early.deltaBytes} bytes for ${early.targetBytes} bytes of payload`,
        );
        assert.deepEqual(unexpected, [], 'no decode failures where the decoder works');
        assert.deepEqual(reasons, [40018], 'one decode failure, reported with 40018, then a recovered chain');
        assert.equal(chC.state, 'attached');
        t.diagnostic(
          `${variant.name}: a decoded ${early.calls} deltas, ${early.deltaBytes} bytes for ${early.targetBytes} payload bytes (${((100 * early.deltaBytes) / early.targetBytes).toFixed(1)}%); b ${late.calls}; c ${failing.calls}`,
        );
      } finally {
        await closeAll(publisher, a, b, c);
      }
    });

    it('refuses an unknown delta format with 40003', async () => {
      const client = await connect(realtime(ts, variant));
      try {
        const ch = client.channels.get('delta-bad', { params: { delta: 'bsdiff' } });
        await assert.rejects(ch.attach(), (err: Ably.ErrorInfo) => err.code === 40003);
      } finally {
        await closeAll(client);
      }
    });
  });
}
