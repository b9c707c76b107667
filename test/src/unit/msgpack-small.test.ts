/**
 * The direct msgpack decoder for small client frames (packages/protocol/src/msgpack-small.ts)
 * against the general decoder it stands in for (fast-check, fixed seed):
 * - on every value the encoder can make, and on mutated encodings that pass the limits check, it
 *   either gives up (NOT_SIMPLE) or builds exactly the general decoder's value;
 * - frames of the simple shape (an ATTACH as ably-js sends it, maps of ASCII strings and 32-bit
 *   integers) take the direct path;
 * - `decodeMsgpack` as a whole answers what the general decoder answers, errors included (the
 *   `__proto__` key, a number key, non-ASCII strings, binaries, ext, floats, 64-bit integers).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Decoder, Encoder, ExtensionCodec } from '@msgpack/msgpack';
import fc from 'fast-check';
import { AblyError, Action, Err, checkMsgpack, decodeLimits, decodeMsgpack, encodeMsgpack } from '@encke/protocol';
import { NOT_SIMPLE, decodeSimpleMsgpack } from '@encke/protocol/msgpack-small';

const SEED = 19_062;
const RUNS = 1000;
const LIMITS = decodeLimits(64 * 1024);

/** The general decoder, configured as packages/protocol/src/codec.ts configures it. */
const extensionCodec = new ExtensionCodec();
extensionCodec.register({ type: 0, encode: () => null, decode: () => undefined });
const reference = new Decoder({ extensionCodec, useBigInt64: false });
const encoder = new Encoder({ ignoreUndefined: true });

/** The general decoder's answer: a value, or the fact that it refused. */
function expected(bytes: Uint8Array): { value: unknown } | { refused: true } {
  try {
    return { value: reference.decode(bytes) };
  } catch {
    return { refused: true };
  }
}

const asciiString = fc.string({ maxLength: 40 });
const anyString = fc.oneof(
  asciiString,
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ minLength: 250, maxLength: 300 }),
);
const integer = fc.oneof(
  fc.integer({ min: -40, max: 300 }),
  fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
  fc.maxSafeInteger(),
  fc.constantFrom(127, 128, -32, -33, 255, 256, 65535, 65536, -128, -129, -32768, -32769, 2 ** 31, -(2 ** 31)),
);
const leaf = fc.oneof(
  integer,
  anyString,
  fc.boolean(),
  fc.constant(null),
  fc.double(),
  fc.uint8Array({ maxLength: 8 }),
);
/** The keys the decoder matches from its table (`knownKey`), and near misses of them. */
const KNOWN_KEYS = ['action', 'id', 'channel', 'msgSerial', 'messages', 'name', 'data', 'connectionKey', 'size'];
const NEAR_MISSES = ['actioN', 'i', 'ids', 'channeL', 'messages1', 'nam', 'datA', 'connectionKez', 'siz', ''];
const key = fc.oneof(
  asciiString,
  fc.constantFrom('__proto__', 'constructor', 'action', '0', '12'),
  fc.constantFrom(...KNOWN_KEYS, ...NEAR_MISSES, 'dat\u00e9'),
  anyString,
);
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('tree'), { maxLength: 5 }),
    fc.dictionary(key, tie('tree'), { maxKeys: 5 }),
  ),
}));

/** Only the shape the direct decoder takes: maps of ASCII keys, arrays, ASCII strings, 32-bit integers, booleans, nil. */
const { simple } = fc.letrec((tie) => ({
  simple: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), asciiString, fc.boolean(), fc.constant(null)),
    fc.array(tie('simple'), { maxLength: 5 }),
    fc.dictionary(
      fc.oneof(asciiString, fc.constantFrom(...KNOWN_KEYS, ...NEAR_MISSES)).filter((k) => k !== '__proto__'),
      tie('simple'),
      { maxKeys: 5 },
    ),
  ),
}));

/** An encoding with one byte changed (most mutations are refused by the limits check; the rest are compared). */
const mutated = fc.tuple(tree, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([v, at, byte]) => {
  const bytes = Buffer.from(encoder.encode(v));
  bytes[at % bytes.length] = byte;
  return bytes;
});

function passesLimits(bytes: Uint8Array): boolean {
  try {
    checkMsgpack(bytes, LIMITS);
    return true;
  } catch {
    return false;
  }
}

describe('msgpack: the direct decoder for small frames', () => {
  it('gives up or builds exactly the general decoder value, on any value and on mutated encodings', () => {
    const input = fc.oneof(
      tree.map((v) => Buffer.from(encoder.encode(v))),
      mutated.filter(passesLimits),
    );
    fc.assert(
      fc.property(input, (bytes) => {
        const direct = decodeSimpleMsgpack(bytes);
        if (direct === NOT_SIMPLE) return;
        const want = expected(bytes);
        assert.ok('value' in want, 'the direct decoder accepted what the general decoder refuses');
        assert.deepStrictEqual(direct, want.value);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('takes frames of the simple shape directly, in a Buffer or a plain Uint8Array at an offset', () => {
    fc.assert(
      fc.property(simple, fc.nat({ max: 7 }), (v, offset) => {
        const encoded = encoder.encode(v);
        const padded = new Uint8Array(offset + encoded.length + 3);
        padded.set(encoded, offset);
        for (const bytes of [Buffer.from(encoded), padded.subarray(offset, offset + encoded.length)]) {
          const direct = decodeSimpleMsgpack(bytes);
          assert.notEqual(direct, NOT_SIMPLE);
          assert.deepStrictEqual(direct, reference.decode(bytes));
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('reads known keys from its table and every other key from the bytes (a publish as ably-js sends it)', () => {
    const publish = {
      action: Action.MESSAGE,
      channel: 'ch',
      msgSerial: 7,
      messages: [{ name: 'name', data: 'data', id: 'i', size: 1, nam: 2, actioN: 3, connectionKez: 'k' }],
    };
    const bytes = encodeMsgpack(publish);
    assert.deepStrictEqual(decodeSimpleMsgpack(bytes), publish);
    assert.deepStrictEqual(decodeSimpleMsgpack(bytes), reference.decode(bytes));
  });

  it('decodes an ATTACH as ably-js sends it directly', () => {
    const attach = { action: Action.ATTACH, channel: 'own-123', flags: 0x10000, params: { rewind: '1' } };
    assert.deepStrictEqual(decodeSimpleMsgpack(encodeMsgpack(attach)), attach);
  });

  it('decodeMsgpack answers what the general decoder answers, errors as 40000', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          tree.map((v) => Buffer.from(encoder.encode(v))),
          mutated.filter(passesLimits),
        ),
        (bytes) => {
          const want = expected(bytes);
          if ('value' in want) return assert.deepStrictEqual(decodeMsgpack(bytes, LIMITS), want.value);
          assert.throws(
            () => decodeMsgpack(bytes, LIMITS),
            (err) => err instanceof AblyError && err.code === Err.badRequest.code,
          );
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  const table: [string, number[], unknown][] = [
    ['a __proto__ key', [0x81, 0xa9, ...Buffer.from('__proto__'), 0x01], 'refused'],
    ['a number key', [0x81, 0x01, 0xa1, 0x61], { 1: 'a' }],
    ['a nil key', [0x81, 0xc0, 0x01], 'refused'],
    ['a non-ASCII string', [0xa2, 0xc3, 0xa9], 'é'],
    // From 16 bytes the direct decoder checks a string natively: ASCII is read, anything else is UTF-8.
    ['a 16-byte ASCII string', [0xb0, ...Buffer.from('p'.repeat(16))], 'p'.repeat(16)],
    ['a 20-byte string ending in é', [0xb4, ...Buffer.from(`${'a'.repeat(18)}é`)], `${'a'.repeat(18)}é`],
    [
      'a str8 string with a DEL and an é',
      [0xd9, 0x22, ...Buffer.from(`${'\x7f'.repeat(32)}é`)],
      `${'\x7f'.repeat(32)}é`,
    ],
    ['a binary', [0xc4, 0x01, 0x07], Buffer.from([7])],
    ['ably ext-0 undefined', [0x81, 0xa1, 0x61, 0xd4, 0x00, 0x00], { a: undefined }],
    ['a float', [0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0], 1.5],
    ['a uint64', [0xcf, 0, 0, 0, 1, 0, 0, 0, 0], 2 ** 32],
    ['an int8 -1', [0xd0, 0xff], -1],
    ['an int16 -2', [0xd1, 0xff, 0xfe], -2],
    ['an int32 min', [0xd2, 0x80, 0, 0, 0], -(2 ** 31)],
    ['a uint32 max', [0xce, 0xff, 0xff, 0xff, 0xff], 2 ** 32 - 1],
  ];
  for (const [name, bytes, want] of table) {
    it(`decodeMsgpack: ${name}`, () => {
      const input = Buffer.from(bytes);
      if (want === 'refused')
        assert.throws(
          () => decodeMsgpack(input),
          (err) => err instanceof AblyError && err.code === Err.badRequest.code,
        );
      else assert.deepStrictEqual(decodeMsgpack(input), want);
    });
  }
});
