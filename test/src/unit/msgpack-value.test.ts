/**
 * The server's msgpack writer (wire/msgpack-value.ts), which every outbound msgpack frame without a
 * template goes through, writes byte for byte what the protocol's encoder writes (fast-check, fixed
 * seed): random ProtocolMessages as a channel sends them, random JSON-like values with binary, and
 * every size edge of the format (fixstr/str8/str16/str32, bin8/16/32, fixarray/array16/array32,
 * fixmap/map16, every integer width, floats, -0, NaN). What it does not write (a Date, a Map, a
 * class instance, a bigint, a lone surrogate, deep nesting) goes to the encoder, so its bytes and
 * errors are the encoder's.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Action, encodeMsgpack, type ProtocolMessage } from '@encke/protocol';
import { OutboundFrame, encodeMsgpackFast, msgpackBytes } from '@encke/server/internal';

const SEED = 19_063;

function library(value: unknown): Buffer {
  return Buffer.from(encodeMsgpack(value as ProtocolMessage));
}

function written(value: unknown): Buffer {
  const bytes = msgpackBytes(value);
  assert.notEqual(bytes, undefined, 'the writer takes the value');
  return bytes!;
}

function sameBytes(value: unknown): void {
  assert.deepEqual(written(value), library(value));
}

/** Integers at every msgpack integer width's edges, both signs. */
const INTEGER_EDGES = [
  0,
  -0,
  1,
  0x7f,
  0x80,
  0xff,
  0x100,
  0xffff,
  0x10000,
  0xffffffff,
  0x100000000,
  2 ** 53 - 1,
  -1,
  -0x20,
  -0x21,
  -0x80,
  -0x81,
  -0x8000,
  -0x8001,
  -0x80000000,
  -0x80000001,
  -(2 ** 53 - 1),
  1_765_000_000_000,
];
const FLOATS = [0.5, -0.5, 1e-300, 1.5e300, Number.NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53), 0.1 + 0.2];
/** Lengths at each size class's edges (strings, binaries, arrays, maps). */
const LENGTH_EDGES = [0, 15, 16, 31, 32, 255, 256, 65_535, 65_536];

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({
    unit: fc.constantFrom('"', '\\', '\n', '\u2028', '\u0000', '\u007f', '\u0080', 'é', '😀'),
    maxLength: 9,
  }),
  fc.constantFrom(...LENGTH_EDGES).map((n) => 'a'.repeat(n)),
  fc.constantFrom(15, 16, 127, 128, 32_767, 32_768).map((n) => 'é'.repeat(n)),
);
const number = fc.oneof(fc.constantFrom(...INTEGER_EDGES, ...FLOATS), fc.integer(), fc.maxSafeInteger(), fc.double());
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc.constantFrom(...LENGTH_EDGES).map((n) => new Uint8Array(n).fill(0xc1)),
  // A view into a larger buffer: only its own bytes are written.
  fc.uint8Array({ minLength: 4, maxLength: 20 }).map((b) => b.subarray(1, b.length - 1)),
  fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b)),
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text,
    number,
    fc.boolean(),
    fc.constant(null),
    bytes,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(text, fc.option(tie('value'), { nil: undefined }), { maxKeys: 5 }),
  ),
}));

/** A stored message as a channel delivers it. */
const message = fc.record(
  {
    id: fc.string({ maxLength: 30 }),
    clientId: text,
    connectionId: fc.string({ maxLength: 12 }),
    timestamp: fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
    serial: fc.string({ maxLength: 40 }),
    action: fc.constantFrom(0, 1, 2, 3),
    name: text,
    data: fc.oneof(text, bytes),
    encoding: fc.constantFrom('json', 'utf-8/base64', undefined),
    extras: fc.dictionary(fc.string({ maxLength: 8 }), value, { maxKeys: 3 }),
  },
  { requiredKeys: ['id', 'connectionId', 'timestamp', 'serial', 'data'] },
);
const channelMessage = fc.record(
  {
    action: fc.constant(Action.MESSAGE),
    channel: text,
    channelSerial: fc.string({ maxLength: 30 }),
    messages: fc.array(message, { minLength: 1, maxLength: 4 }),
    id: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
    connectionId: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
    timestamp: fc.integer({ min: 0, max: 2 ** 48 }),
  },
  { requiredKeys: ['action', 'channel', 'messages'] },
);

describe('msgpack writer', () => {
  it('writes a channel MESSAGE as the encoder does', () => {
    fc.assert(
      fc.property(channelMessage, (pm) => sameBytes(pm)),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('writes any JSON-like value with binary as the encoder does', () => {
    fc.assert(
      fc.property(value, (v) => sameBytes(v)),
      { seed: SEED, numRuns: 600 },
    );
  });

  it('writes every integer width and float, -0 and NaN as the encoder does', () => {
    for (const n of [...INTEGER_EDGES, ...FLOATS]) {
      sameBytes(n);
      if (Number.isInteger(n) && Math.abs(n) < 2 ** 53) for (const d of [-1, 1]) sameBytes(n + d);
    }
  });

  it('writes strings, binaries, arrays and maps at every size edge as the encoder does', () => {
    for (const n of [...LENGTH_EDGES, 0xffff + 2]) {
      sameBytes('x'.repeat(n));
      sameBytes(new Uint8Array(n));
      sameBytes(Array.from({ length: n }, (_, i) => i % 3));
    }
    for (const n of [15, 16, 17, 300]) sameBytes(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])));
    // Multi-byte UTF-8 at the str8/str16 edges (2-byte chars: 127/128 are 254/256 bytes).
    for (const n of [15, 16, 127, 128, 32_767, 32_768]) sameBytes('é'.repeat(n));
  });

  it('writes known keys from its table and short strings by a loop, as the encoder does', () => {
    // Known keys (and near misses), strings on both sides of the loop's bound (64) and the fixstr/str8 edge,
    // a non-ASCII char first, last or in the middle (the loop gives the string to the general path).
    const strings = [15, 16, 31, 32, 33, 63, 64, 65].flatMap((n) => [
      'k'.repeat(n),
      `é${'k'.repeat(n - 1)}`,
      `${'k'.repeat(n - 1)}é`,
      `${'k'.repeat(n >> 1)}😀${'k'.repeat(n >> 1)}`,
      `${'k'.repeat(n >> 1)}\ud800`,
    ]);
    for (const s of strings) {
      if (/[\ud800-\udfff](?![\udc00-\udfff])/.test(s) && !s.includes('😀')) {
        assert.equal(msgpackBytes({ id: s }), undefined, 'a lone surrogate goes to the encoder');
        continue;
      }
      sameBytes({ id: s, [s]: s, name: [s] });
    }
    const keys = ['action', 'id', 'channel', 'messages', 'serials', 'summary', 'actio', 'Action', 'serialss', 'é'];
    sameBytes(Object.fromEntries(keys.map((k, i) => [k, i])));
  });

  it('writes maps in one pass: 15 entries a fixmap, 16 or more (undefined ones not counted) the map 16 form', () => {
    for (const n of [14, 15, 16, 17]) {
      for (const holes of [0, 1, 2]) {
        const entries: [string, unknown][] = Array.from({ length: n + holes }, (_, i) => [
          i < 8 ? ['action', 'id', 'channel', 'data', 'name', 'serial', 'timestamp', 'extras'][i]! : `k${i}`,
          i % 5 === 4 && holes > 0 ? undefined : { nested: 'x'.repeat(i * 40) },
        ]);
        sameBytes(Object.fromEntries(entries));
      }
    }
  });

  it('leaves undefined map entries out and writes undefined array items as nil, as the encoder does', () => {
    sameBytes({ a: undefined, b: 1, c: undefined });
    sameBytes([undefined, null, 1]);
    sameBytes({ ['10']: 1, b: 2, ['2']: 3 }); // integer keys first, as Object.keys orders them
    const bare = { x: 'null prototype' };
    Reflect.setPrototypeOf(bare, null);
    sameBytes(bare);
  });

  it('hands what it does not write to the encoder (same bytes, same errors)', () => {
    class Point {
      constructor(readonly x = 1) {}
    }
    let deep: unknown = 'bottom';
    for (let i = 0; i < 40; i++) deep = [deep];
    const others: unknown[] = [
      { when: new Date(1_765_000_000_000) },
      { p: new Point() },
      { s: 'lone \ud800 surrogate' },
      { s: 'lone \udc00' },
      deep,
      { f: new Float32Array([1.5]) },
    ];
    for (const v of others) {
      assert.equal(msgpackBytes(v), undefined, `not written: ${String(v)}`);
      assert.deepEqual(Buffer.from(encodeMsgpackFast(v as ProtocolMessage)), library(v));
    }
    const bad = { n: 10n };
    assert.equal(msgpackBytes(bad), undefined);
    assert.throws(() => encodeMsgpackFast(bad as unknown as ProtocolMessage));
    // A surrogate pair is a 4-byte char, written here.
    sameBytes({ s: 'pair 😀' });
  });

  it('writes each value afresh into its reused buffer: after a large or refused one, the next is exact', () => {
    const big = { data: 'b'.repeat(200_000), bin: new Uint8Array(70_000).fill(7) };
    sameBytes(big);
    sameBytes({ small: 1 });
    assert.equal(msgpackBytes({ half: 'written', then: new Date(0) }), undefined);
    sameBytes({ after: 'a refused value', n: [1, 2, 3] });
    // Results do not share the buffer: an earlier result is unchanged by a later write.
    const first = msgpackBytes({ first: 'x'.repeat(40) })!;
    const copy = Buffer.from(first);
    msgpackBytes({ second: 'y'.repeat(40) });
    assert.deepEqual(first, copy);
  });

  it('is what every outbound frame without a template encodes to in msgpack', () => {
    fc.assert(
      fc.property(channelMessage, (pm) => {
        const frame = new OutboundFrame(pm);
        assert.deepEqual(Buffer.from(frame.msgpack()), library(pm));
      }),
      { seed: SEED, numRuns: 50 },
    );
  });
});
