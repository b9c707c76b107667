/**
 * A client's WebSocket frames read past `ws`'s Receiver on the common path (transports/ws-fast-read.ts,
 * issue 19 `wsin`). Real server, a raw TCP client writing hand-made masked frames, JSON and msgpack:
 * - seeded random sequences of publishes (whole, in any length form, or fragmented with pings and
 *   pongs between the fragments), pings and pongs, cut at random bytes across socket writes: the server
 *   acts on exactly those messages in order (each publish reaches a subscriber once, in order, and is
 *   ACKed), answers every ping with its data, and keeps the connection;
 * - a frame cut mid-header, mid-length and mid-payload is read whole, and the frames after it too; a
 *   chunk that starts inside a frame goes to the Receiver even where its bytes read as a frame;
 * - bad frames (unmasked, RSV bits, reserved opcodes, a bad control frame, invalid UTF-8 text, over
 *   the payload limit, a 64-bit length) between good ones in the same write: the first is acted on
 *   once, the last never, and the connection closed with the code a plain `ws` server gives.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Action, type Format, type ProtocolMessage } from '@encke/protocol';
import { WebSocketServer } from 'ws';
import { RawClient, receivedData } from './helpers/raw-ws.js';
import { FrameClient, OP, frame, messageFrame, type FrameShape } from './helpers/raw-frames.js';
import { KEYS } from './helpers/server.js';
import { serverPerSuite } from './helpers/suite.js';

const FORMATS = ['json', 'msgpack'] as const satisfies readonly Format[];
/** The server's frame limit: `ws`'s maxPayload is twice that (websocket-server.ts). */
const MAX_FRAME = 4000;
const MAX_PAYLOAD = MAX_FRAME * 2;
const CASES = 12;

/** A seeded generator (mulberry32): the same cases every run. */
function random(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

function publish(channel: string, msgSerial: number, data: string): ProtocolMessage {
  return { action: Action.MESSAGE, channel, msgSerial, messages: [{ data }] };
}

/** A protocol message's payload, cut into fragments (text or binary, then continuations). */
function fragments(pm: ProtocolMessage, format: Format, parts: number, between: () => Buffer[]): Buffer[] {
  const whole = messageFrame(pm, format, { masked: false });
  const payload = whole.subarray(whole[1]! === 126 ? 4 : whole[1]! === 127 ? 10 : 2);
  const out: Buffer[] = [];
  const size = Math.ceil(payload.length / parts);
  for (let i = 0; i < parts; i++) {
    const op = i === 0 ? (format === 'json' ? OP.text : OP.binary) : OP.continuation;
    out.push(frame(op, payload.subarray(i * size, (i + 1) * size), { fin: i === parts - 1 }));
    if (i < parts - 1) out.push(...between());
  }
  return out;
}

describe("a client's frames read past ws's Receiver", () => {
  const suite = serverPerSuite({ maxFrameSize: MAX_FRAME, maxMessageSize: MAX_FRAME / 2 });
  const path = (format: Format): string =>
    `/?key=${encodeURIComponent(KEYS.full)}&format=${format}&heartbeats=false&v=6`;

  async function subscriber(format: Format, channel: string): Promise<RawClient> {
    const client = suite.own(await RawClient.connect(suite.ts.port, KEYS.full, format));
    client.send({ action: Action.ATTACH, channel });
    await client.next(Action.ATTACHED);
    return client;
  }

  async function publisher(format: Format, channel: string): Promise<FrameClient> {
    const client = suite.own(await FrameClient.open(suite.ts.port, path(format), format));
    await client.next(Action.CONNECTED);
    client.send(messageFrame({ action: Action.ATTACH, channel }, format));
    await client.next(Action.ATTACHED);
    return client;
  }

  /** The msgSerials the ACKs `client` received cover, in order. */
  function acked(client: FrameClient): number[] {
    const serials: number[] = [];
    for (const pm of client.log)
      if (pm.action === Action.ACK && pm.msgSerial !== undefined)
        for (let i = 0; i < (pm.count ?? 1); i++) serials.push(pm.msgSerial + i);
    return serials;
  }

  for (const format of FORMATS) {
    it(`acts on random frame sequences cut at random bytes as sent (${format})`, async () => {
      for (let c = 0; c < CASES; c++) {
        const next = random(1000 * c + (format === 'json' ? 1 : 2));
        const channel = `fast-read-${format}-${c}`;
        const sub = await subscriber(format, channel);
        const pub = await publisher(format, channel);
        const frames: Buffer[] = [];
        const sent: string[] = [];
        const pings: Buffer[] = [];
        const control = (): Buffer[] => {
          const payload = Buffer.from(Array.from({ length: next(40) }, () => next(256)));
          if (next(2) === 0) return [];
          if (next(2) === 0) return [frame(OP.pong, payload)];
          pings.push(payload);
          return [frame(OP.ping, payload)];
        };
        const items = 6 + next(14);
        for (let i = 0; i < items; i++) {
          const kind = next(10);
          if (kind < 6) {
            const data = `m${c}.${sent.length}${['', ' é☃😀', 'x'.repeat(next(400))][next(3)]}`;
            const pm = publish(channel, sent.length, data);
            sent.push(data);
            if (next(3) === 0) frames.push(...fragments(pm, format, 2 + next(3), control));
            else frames.push(messageFrame(pm, format, { form: ([undefined, 16, 64] as const)[next(3)] }));
          } else frames.push(...control());
        }
        const bytes = Buffer.concat(frames);
        const cuts = Array.from({ length: next(7) }, () => next(bytes.length)).sort((a, b) => a - b);
        await pub.sendInPieces(bytes, cuts);
        assert.deepEqual(await receivedData(sub, channel, sent.length), sent, `case ${c}: the messages in order`);
        await pub.until(() => acked(pub).length >= sent.length && pub.pongs.length >= pings.length, `case ${c}`);
        assert.deepEqual(
          acked(pub),
          sent.map((_, i) => i),
          `case ${c}: each publish ACKed once`,
        );
        assert.deepEqual(pub.pongs, pings, `case ${c}: each ping answered with its data`);
        assert.equal(pub.closed, false, `case ${c}: the connection goes on`);
        assert.equal(
          pub.log.some((pm) => pm.action === Action.ERROR),
          false,
          `case ${c}: no error`,
        );
        pub.close();
        sub.close();
      }
    });

    it(`reads a frame cut mid-header, mid-length and mid-payload, and the frames after it (${format})`, async () => {
      const channel = `fast-read-cut-${format}`;
      const sub = await subscriber(format, channel);
      const pub = await publisher(format, channel);
      const data = ['first', `second ${'é'.repeat(200)}`, 'third'];
      const frames = data.map((d, i) => messageFrame(publish(channel, i, d), format));
      const [a, b, c] = frames as [Buffer, Buffer, Buffer];
      assert.equal(b[1]! & 0x7f, 126, 'the second frame has a 16-bit length');
      // a and b's first byte; b's length's first byte; b to the middle of its payload; the rest and c.
      await pub.sendInPieces(Buffer.concat([a, b, c]), [a.length + 1, a.length + 3, a.length + 100]);
      assert.deepEqual(await receivedData(sub, channel, 3), data);
      await pub.until(() => acked(pub).length >= 3, 'the ACKs');
      assert.deepEqual(acked(pub), [0, 1, 2]);
    });
  }

  for (const format of FORMATS) {
    it(`hands a chunk that starts inside a frame to ws's Receiver, whatever its bytes look like (${format})`, async () => {
      const channel = `fast-read-inside-${format}`;
      const sub = await subscriber(format, channel);
      const pub = await publisher(format, channel);
      // Each cut leaves the Receiver inside a frame, and the next chunk's first bytes read as a complete
      // binary frame of garbage: a pong cut after its first byte (the Receiver holds 1 byte; its mask
      // starts 0x81), a publish cut after its header (the Receiver waits for the mask: 0x82 0x86 ...),
      // a publish cut in its payload before a 0x82 (its data is 'Â' = C3 82 repeated, its mask zero).
      const pong = frame(OP.pong, Buffer.from('ok'), { mask: Buffer.from([0x81, 1, 2, 3]) });
      const data = ['header', 'Â'.repeat(100), 'last'];
      const second = messageFrame(publish(channel, 0, data[0]!), format, { mask: Buffer.from([0x82, 0x86, 0, 0]) });
      const third = messageFrame(publish(channel, 1, data[1]!), format, { mask: Buffer.alloc(4) });
      const last = messageFrame(publish(channel, 2, data[2]!), format);
      const head = (f: Buffer): number => ((f[1]! & 0x7f) === 126 ? 4 : 2);
      let inThird = head(third) + 4;
      while (!(third[inThird] === 0x82 && third[inThird - 1] === 0xc3)) inThird++;
      const at2 = pong.length;
      const at3 = at2 + second.length;
      await pub.sendInPieces(Buffer.concat([pong, second, third, last]), [1, at2 + head(second), at3 + inThird]);
      assert.deepEqual(await receivedData(sub, channel, 3), data);
      await pub.until(() => acked(pub).length >= 3, 'the ACKs');
      assert.deepEqual(acked(pub), [0, 1, 2]);
      assert.equal(pub.closed, false);
      assert.equal(
        pub.log.some((pm) => pm.action === Action.ERROR),
        false,
      );
    });

    it(`closes on a message begun inside a fragmented one read apart (${format})`, async () => {
      const channel = `fast-read-frag-${format}`;
      const sub = await subscriber(format, channel);
      const pub = await publisher(format, channel);
      const opcode = format === 'json' ? OP.text : OP.binary;
      const first = messageFrame(publish(channel, 0, 'whole'), format);
      const begun = frame(opcode, Buffer.from('{'), { fin: false });
      const inside = messageFrame(publish(channel, 1, 'inside'), format);
      await pub.sendInPieces(Buffer.concat([first, begun, inside]), [first.length + begun.length]);
      assert.equal(await pub.closedWith(), 1002);
      const marker = suite.own(await RawClient.connect(suite.ts.port, KEYS.full, format));
      marker.send(publish(channel, 0, 'marker'));
      assert.deepEqual(await receivedData(sub, channel, 2), ['whole', 'marker']);
    });
  }

  describe('bad frames', () => {
    let plain: WebSocketServer;
    let plainPort = 0;
    before(async () => {
      plain = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: MAX_PAYLOAD });
      plain.on('connection', (ws) => ws.on('error', () => {}));
      await new Promise<void>((resolve) => plain.once('listening', () => resolve()));
      const address = plain.address();
      plainPort = typeof address === 'object' && address !== null ? address.port : 0;
    });
    after(() => new Promise<void>((resolve) => plain.close(() => resolve())));

    /** Masked so that XORed once more it is ASCII ('@', NUL): a Receiver unmasking it twice would accept it. */
    const invalidUtf8 = frame(OP.text, Buffer.from([0xc0, 0x80]), { mask: Buffer.from([0x80, 0x80, 0x80, 0x80]) });
    const text = Buffer.from('{}');
    const rows: { name: string; bytes: Buffer; code: number }[] = [
      { name: 'unmasked text', bytes: frame(OP.text, text, { masked: false }), code: 1002 },
      { name: 'RSV1 (no extension)', bytes: frame(OP.text, text, { rsv: 4 }), code: 1002 },
      { name: 'RSV2', bytes: frame(OP.binary, text, { rsv: 2 }), code: 1002 },
      { name: 'RSV3', bytes: frame(OP.text, text, { rsv: 1 }), code: 1002 },
      { name: 'reserved data opcode 3', bytes: frame(0x3, text), code: 1002 },
      { name: 'reserved control opcode 0xB', bytes: frame(0xb, text), code: 1002 },
      { name: 'a continuation with nothing to continue', bytes: frame(OP.continuation, text), code: 1002 },
      {
        name: 'a new message inside a fragmented one',
        bytes: Buffer.concat([frame(OP.text, text, { fin: false }), frame(OP.text, text)]),
        code: 1002,
      },
      { name: 'a ping of 126 bytes', bytes: frame(OP.ping, Buffer.alloc(126)), code: 1002 },
      { name: 'a ping without FIN', bytes: frame(OP.ping, text, { fin: false }), code: 1002 },
      { name: 'a pong with a 16-bit length', bytes: frame(OP.pong, text, { form: 16 }), code: 1002 },
      { name: 'a pong without FIN', bytes: frame(OP.pong, text, { fin: false }), code: 1002 },
      { name: 'RSV1 on a pong', bytes: frame(OP.pong, text, { rsv: 4 }), code: 1002 },
      { name: 'invalid UTF-8 text', bytes: invalidUtf8, code: 1007 },
      {
        name: 'text over maxPayload (16-bit length)',
        bytes: frame(OP.text, Buffer.alloc(MAX_PAYLOAD + 1, 0x20)),
        code: 1009,
      },
      {
        name: 'binary over maxPayload (16-bit length)',
        bytes: frame(OP.binary, Buffer.alloc(MAX_PAYLOAD + 1)),
        code: 1009,
      },
      {
        name: 'a 64-bit length over maxPayload',
        bytes: frame(OP.text, text, { form: 64, declared: 2 ** 40 }),
        code: 1009,
      },
      { name: 'a close frame (1000)', bytes: frame(OP.close, Buffer.from([0x03, 0xe8])), code: 1000 },
    ];

    /** The close code a plain `ws` server gives for `bytes` between two good text frames. */
    async function plainCode(bytes: Buffer): Promise<number | undefined> {
      const client = await FrameClient.open(plainPort, '/', null);
      client.send(Buffer.concat([frame(OP.text, text), bytes, frame(OP.text, text)]));
      return client.closedWith();
    }

    for (const format of FORMATS) {
      it(`closes with ws's own code, after acting once on the frame before it (${format})`, async () => {
        const channel = `fast-read-bad-${format}`;
        const sub = await subscriber(format, channel);
        const marker = suite.own(await RawClient.connect(suite.ts.port, KEYS.full, format));
        for (const [i, row] of rows.entries()) {
          assert.equal(await plainCode(row.bytes), row.code, `${row.name}: a plain ws server's code`);
          const pub = await publisher(format, channel);
          const good = `before ${row.name}`;
          // A frame after the bad one: enough bytes for a frame's header and mask, never acted on.
          const after = frame(OP.text, text);
          pub.send(Buffer.concat([messageFrame(publish(channel, 0, good), format), row.bytes, after]));
          assert.equal(await pub.closedWith(), row.code, `${row.name}: the close code`);
          marker.send(publish(channel, i, `marker ${i}`));
          assert.deepEqual(await receivedData(sub, channel, 2), [good, `marker ${i}`], `${row.name}: acted on once`);
        }
      });
    }

    it('reads a good frame with a 64-bit length (through ws) and goes on', async () => {
      const channel = 'fast-read-64';
      const sub = await subscriber('json', channel);
      const pub = await publisher('json', channel);
      const shapes: FrameShape[] = [{ form: 64 }, {}, { form: 16 }, {}];
      pub.send(Buffer.concat(shapes.map((s, i) => messageFrame(publish(channel, i, `n${i}`), 'json', s))));
      assert.deepEqual(await receivedData(sub, channel, 4), ['n0', 'n1', 'n2', 'n3']);
      await pub.until(() => acked(pub).length >= 4, 'the ACKs');
      assert.equal(pub.closed, false);
    });
  });
});
