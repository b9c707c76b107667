/**
 * A value as msgpack, written as latin1 text (one char a byte) with the exact bytes the protocol's
 * encoder (@msgpack/msgpack, `ignoreUndefined`) writes for it, for every frame the server sends in
 * msgpack (a channel's MESSAGE, PRESENCE, ATTACHED…). The library walks a value with generic code
 * and copies each string into its buffer a char at a time in JavaScript: a 200-byte MESSAGE cost
 * about 150k instructions, the whole fan-out's difference between msgpack and JSON (bench/README).
 * Here a string is one regular-expression test and a concatenation, and the text becomes bytes in
 * one native copy.
 *
 * It writes the values ProtocolMessages are made of: plain objects (undefined entries left out),
 * arrays, strings, numbers, booleans, null and Uint8Arrays. For anything else (a Date, a Map, a
 * class instance, a bigint, a string with a lone surrogate, nesting deeper than MAX_DEPTH) it
 * answers undefined and the caller uses the encoder, so its results and errors stand.
 * test/src/unit/msgpack-value.test.ts compares the bytes with the encoder's over random values and
 * every size edge of the format.
 */
import { encodeMsgpack, type ProtocolMessage } from '@encke/protocol';

const NIL = String.fromCharCode(0xc0);
const FALSE = String.fromCharCode(0xc2);
const TRUE = String.fromCharCode(0xc3);
const FIXMAP = 0x80;
const MAP16 = 0xde;
const MAP32 = 0xdf;
const FIXARRAY = 0x90;
const ARRAY16 = 0xdc;
const ARRAY32 = 0xdd;
const FIXSTR = 0xa0;
const STR8 = 0xd9;
const STR16 = 0xda;
const STR32 = 0xdb;
const BIN8 = 0xc4;
const BIN16 = 0xc5;
const BIN32 = 0xc6;
const UINT8 = 0xcc;
const UINT16 = 0xcd;
const UINT32 = 0xce;
const UINT64 = 0xcf;
const INT8 = 0xd0;
const INT16 = 0xd1;
const INT32 = 0xd2;
const INT64 = 0xd3;
const FLOAT64 = 0xcb;
const NEGATIVE_FIXINT = 0xe0;
/** Largest count a fix- header holds (maps and arrays: 15, strings: 31), and the 8/16/32-bit bounds. */
const FIX_COUNT = 16;
const FIX_STR = 32;
const NEGATIVE_FIXINT_MIN = -0x20;
const POSITIVE_FIXINT_END = 0x80;
const BYTE_END = 0x100;
const WORD_END = 0x10000;
const UINT32_END = 0x100000000;
const INT8_MIN = -0x80;
const INT16_MIN = -0x8000;
const INT32_MIN = -0x80000000;
/** Deeper values go to the encoder (ProtocolMessages nest 3 deep, plus what `extras` holds). */
const MAX_DEPTH = 32;

/** Nothing this writer writes: the caller uses the encoder. */
const UNSUPPORTED = undefined;

/** ASCII: one char is one UTF-8 byte already (ids, names, serials, most data). */
const ASCII = /^[\x00-\x7f]*$/;
/** A surrogate without its pair: the library's JS and native UTF-8 paths write it differently. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Scratch space for numbers wider than a byte, written with the DataView calls the library makes. */
const scratch = new DataView(new ArrayBuffer(8));
const scratchBytes = new Uint8Array(scratch.buffer);

function scratchText(length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += String.fromCharCode(scratchBytes[i]!);
  return text;
}

/** A header byte and a big-endian count of 0, 2 or 4 bytes (the fix-/16/32 forms of a size). */
function sized(count: number, fix: number, fixEnd: number, op8: number, op16: number, op32: number): string {
  if (count < fixEnd) return String.fromCharCode(fix + count);
  if (op8 !== 0 && count < BYTE_END) return String.fromCharCode(op8, count);
  if (count < WORD_END) return String.fromCharCode(op16, count >>> 8, count & 0xff);
  return String.fromCharCode(op32, count >>> 24, (count >>> 16) & 0xff, (count >>> 8) & 0xff, count & 0xff);
}

function stringText(s: string): string | undefined {
  if (ASCII.test(s)) return sized(s.length, FIXSTR, FIX_STR, STR8, STR16, STR32) + s;
  if (LONE_SURROGATE.test(s)) return UNSUPPORTED;
  const bytes = Buffer.from(s, 'utf8');
  return sized(bytes.length, FIXSTR, FIX_STR, STR8, STR16, STR32) + bytes.toString('latin1');
}

function binaryText(b: Uint8Array): string {
  const size = b.byteLength;
  // bin has no fix- form: bin 8 from 0 bytes.
  const head = size < BYTE_END ? String.fromCharCode(BIN8, size) : sized(size, 0, 0, 0, BIN16, BIN32);
  return head + Buffer.from(b.buffer, b.byteOffset, size).toString('latin1');
}

function integerText(n: number): string {
  if (n >= 0) {
    if (n < POSITIVE_FIXINT_END) return String.fromCharCode(n);
    if (n < BYTE_END) return String.fromCharCode(UINT8, n);
    if (n < WORD_END) return String.fromCharCode(UINT16, n >>> 8, n & 0xff);
    if (n < UINT32_END) return String.fromCharCode(UINT32, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
    scratch.setUint32(0, n / UINT32_END);
    scratch.setUint32(4, n);
    return String.fromCharCode(UINT64) + scratchText(8);
  }
  if (n >= NEGATIVE_FIXINT_MIN) return String.fromCharCode(NEGATIVE_FIXINT | (n - NEGATIVE_FIXINT_MIN));
  if (n >= INT8_MIN) return String.fromCharCode(INT8, n & 0xff);
  if (n >= INT16_MIN) return String.fromCharCode(INT16, (n >>> 8) & 0xff, n & 0xff);
  if (n >= INT32_MIN)
    return String.fromCharCode(INT32, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  scratch.setUint32(0, Math.floor(n / UINT32_END));
  scratch.setUint32(4, n);
  return String.fromCharCode(INT64) + scratchText(8);
}

function numberText(n: number): string {
  if (Number.isSafeInteger(n)) return integerText(n);
  scratch.setFloat64(0, n);
  return String.fromCharCode(FLOAT64) + scratchText(8);
}

function arrayText(a: readonly unknown[], depth: number): string | undefined {
  let text = sized(a.length, FIXARRAY, FIX_COUNT, 0, ARRAY16, ARRAY32);
  for (let i = 0; i < a.length; i++) {
    const item = valueText(a[i], depth);
    if (item === UNSUPPORTED) return UNSUPPORTED;
    text += item;
  }
  return text;
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function mapText(o: Record<string, unknown>, depth: number): string | undefined {
  let entries = '';
  let count = 0;
  for (const key in o) {
    if (!Object.hasOwn(o, key)) continue;
    const value = o[key];
    if (value === undefined) continue;
    const k = stringText(key);
    const v = valueText(value, depth);
    if (k === UNSUPPORTED || v === UNSUPPORTED) return UNSUPPORTED;
    entries += k + v;
    count++;
  }
  return sized(count, FIXMAP, FIX_COUNT, 0, MAP16, MAP32) + entries;
}

function valueText(v: unknown, depth: number): string | undefined {
  switch (typeof v) {
    case 'string':
      return stringText(v);
    case 'number':
      return numberText(v);
    case 'boolean':
      return v ? TRUE : FALSE;
    case 'undefined':
      return NIL;
    case 'object':
      if (v === null) return NIL;
      if (depth >= MAX_DEPTH) return UNSUPPORTED;
      if (Array.isArray(v)) return arrayText(v, depth + 1);
      if (v instanceof Uint8Array) return binaryText(v);
      return isPlainObject(v) ? mapText(v, depth + 1) : UNSUPPORTED;
    default:
      return UNSUPPORTED;
  }
}

/** `value` as the encoder's msgpack bytes in latin1 text, or undefined: use the encoder. */
export function msgpackText(value: unknown): string | undefined {
  return valueText(value, 0);
}

/** `pm` as msgpack: the encoder's bytes, written here when the writer takes every value in it. */
export function encodeMsgpackFast(pm: ProtocolMessage): Uint8Array {
  const text = msgpackText(pm);
  return text === UNSUPPORTED ? encodeMsgpack(pm) : Buffer.from(text, 'latin1');
}
