/**
 * A value as msgpack, with the exact bytes the protocol's encoder (@msgpack/msgpack,
 * `ignoreUndefined`) writes for it, for every frame the server sends in
 * msgpack (a channel's MESSAGE, PRESENCE, ATTACHED…). The library walks a value with generic code
 * and copies each string into its buffer a char at a time in JavaScript: a 200-byte MESSAGE cost
 * about 150k instructions, the whole fan-out's difference between msgpack and JSON (bench/README).
 * Here a long string is one regular-expression test and one native copy, a short one a loop, a
 * protocol key a copy from a table, each map one pass over its keys, all written into one buffer
 * reused from frame to frame (no garbage but the result).
 *
 * It writes the values ProtocolMessages are made of: plain objects (undefined entries left out),
 * arrays, strings, numbers, booleans, null and Uint8Arrays. For anything else (a Date, a Map, a
 * class instance, a bigint, a string with a lone surrogate, nesting deeper than MAX_DEPTH) it
 * answers undefined and the caller uses the encoder, so its results and errors stand.
 * test/src/unit/msgpack-value.test.ts compares the bytes with the encoder's over random values and
 * every size edge of the format.
 */
import { encodeMsgpack, isAscii, isPlainObject, type ProtocolMessage } from '@encke/protocol';

const NIL = 0xc0;
const FALSE = 0xc2;
const TRUE = 0xc3;
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

/** The buffer values are written into, reused (encoding is synchronous and never re-entered). */
const INITIAL_BYTES = 4096;
/** Past this the buffer is given back after the frame: a large message does not stay allocated. */
const KEPT_BYTES = 65_536;
let out = Buffer.allocUnsafe(INITIAL_BYTES);
let pos = 0;

/** A surrogate without its pair: the library's JS and native UTF-8 paths write it differently. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** Shorter strings are checked and copied by a loop (a native call costs more than a few dozen chars); < 256. */
const NATIVE_COPY_FROM = 64;
const ASCII_MAX = 0x7f;

/** Scratch space for 64-bit numbers, written with the DataView calls the library makes. */
const scratch = new DataView(new ArrayBuffer(8));
const scratchBytes = new Uint8Array(scratch.buffer);

function ensure(bytes: number): void {
  if (pos + bytes <= out.length) return;
  const grown = Buffer.allocUnsafe(Math.max(out.length * 2, pos + bytes));
  out.copy(grown, 0, 0, pos);
  out = grown;
}

function byte(b: number): void {
  out[pos++] = b;
}

/** A header byte and a big-endian count of 0, 1, 2 or 4 bytes (the fix-/8/16/32 forms of a size). */
function sized(count: number, fix: number, fixEnd: number, op8: number, op16: number, op32: number): void {
  ensure(5);
  if (count < fixEnd) return byte(fix + count);
  if (op8 !== 0 && count < BYTE_END) {
    byte(op8);
    return byte(count);
  }
  if (count < WORD_END) {
    byte(op16);
    byte(count >>> 8);
    return byte(count & 0xff);
  }
  byte(op32);
  out.writeUInt32BE(count, pos);
  pos += 4;
}

/**
 * The keys ProtocolMessages and their items are made of, each as its msgpack bytes (a fixstr: all
 * are ASCII and shorter than 32 chars). A map's keys are written from here without the check and
 * the native call a string takes (bench/README, `pubpath2`: ~14 keys a MESSAGE).
 */
const KEY_BYTES = new Map<string, Uint8Array>();
for (const key of [
  ...['action', 'id', 'channel', 'channelSerial', 'connectionId', 'connectionDetails', 'msgSerial', 'count'],
  ...['error', 'flags', 'timestamp', 'messages', 'presence', 'annotations', 'auth', 'params', 'res', 'serials'],
  ...['clientId', 'connectionKey', 'name', 'data', 'encoding', 'extras', 'serial', 'version', 'type'],
  ...['messageSerial', 'code', 'statusCode', 'message', 'href', 'description', 'metadata', 'summary'],
]) {
  const bytes = new Uint8Array(key.length + 1);
  bytes[0] = FIXSTR | key.length;
  for (let i = 0; i < key.length; i++) bytes[i + 1] = key.charCodeAt(i);
  KEY_BYTES.set(key, bytes);
}

/** A map's key: a known key's bytes copied, any other key as a string. */
function writeKey(key: string): boolean {
  const known = KEY_BYTES.get(key);
  if (known === undefined) return writeString(key);
  const n = known.length;
  ensure(n);
  for (let i = 0; i < n; i++) out[pos++] = known[i]!;
  return true;
}

function writeString(s: string): boolean {
  const n = s.length;
  // Short (ids, names, serials, channel names): checked and copied in one loop, a fixstr or str 8; a
  // non-ASCII char takes the general path. (A regular expression and a native write cost ~2.5k
  // instructions a string, from compiled code.)
  if (n < NATIVE_COPY_FROM) {
    ensure(n + 2);
    const start = pos;
    if (n < FIX_STR) out[pos++] = FIXSTR | n;
    else {
      out[pos++] = STR8;
      out[pos++] = n;
    }
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > ASCII_MAX) {
        pos = start;
        return writeUtf8(s);
      }
      out[pos++] = c;
    }
    return true;
  }
  // ASCII: one char is one UTF-8 byte already (ids, names, serials, most data).
  if (isAscii(s)) {
    const n = s.length;
    sized(n, FIXSTR, FIX_STR, STR8, STR16, STR32);
    ensure(n);
    pos += out.write(s, pos, 'latin1');
    return true;
  }
  return writeUtf8(s);
}

/** A string with a char past ASCII: its UTF-8 bytes (false for a lone surrogate: the encoder's). */
function writeUtf8(s: string): boolean {
  if (LONE_SURROGATE.test(s)) return false;
  const n = Buffer.byteLength(s, 'utf8');
  sized(n, FIXSTR, FIX_STR, STR8, STR16, STR32);
  ensure(n);
  pos += out.write(s, pos, 'utf8');
  return true;
}

function writeBinary(b: Uint8Array): void {
  const size = b.byteLength;
  // bin has no fix- form: bin 8 from 0 bytes.
  if (size < BYTE_END) {
    ensure(2);
    byte(BIN8);
    byte(size);
  } else sized(size, 0, 0, 0, BIN16, BIN32);
  ensure(size);
  out.set(b, pos);
  pos += size;
}

/** 8 bytes from the scratch DataView, after a one-byte head. */
function wide(head: number): void {
  ensure(9);
  byte(head);
  out.set(scratchBytes, pos);
  pos += 8;
}

function writeUint(n: number): void {
  // A positive fixint is a fix- form whose header is the value itself (fix 0, up to 0x7f).
  if (n < UINT32_END) return sized(n, 0, POSITIVE_FIXINT_END, UINT8, UINT16, UINT32);
  scratch.setUint32(0, n / UINT32_END);
  scratch.setUint32(4, n);
  wide(UINT64);
}

function writeInteger(n: number): void {
  if (n >= 0) return writeUint(n);
  ensure(5);
  if (n >= NEGATIVE_FIXINT_MIN) return byte(NEGATIVE_FIXINT | (n - NEGATIVE_FIXINT_MIN));
  if (n >= INT8_MIN) {
    byte(INT8);
    return byte(n & 0xff);
  }
  if (n >= INT16_MIN) {
    byte(INT16);
    byte((n >>> 8) & 0xff);
    return byte(n & 0xff);
  }
  if (n >= INT32_MIN) {
    byte(INT32);
    out.writeInt32BE(n, pos);
    pos += 4;
    return;
  }
  scratch.setUint32(0, Math.floor(n / UINT32_END));
  scratch.setUint32(4, n);
  wide(INT64);
}

function writeNumber(n: number): void {
  if (Number.isSafeInteger(n)) return writeInteger(n);
  scratch.setFloat64(0, n);
  wide(FLOAT64);
}

function writeArray(a: readonly unknown[], depth: number): boolean {
  sized(a.length, FIXARRAY, FIX_COUNT, 0, ARRAY16, ARRAY32);
  for (let i = 0; i < a.length; i++) if (!writeValue(a[i], depth)) return false;
  return true;
}

/**
 * A map in one pass over its keys: the header's byte is kept free and written once the entries are
 * counted, for maps of fewer than 16 entries (a fixmap: every map a ProtocolMessage is made of); a
 * bigger one starts again with the header first (`writeMapCounted`). Counting the entries first was a
 * second walk of every key (bench/README, `pubpath2`).
 */
function writeMap(o: Record<string, unknown>, depth: number): boolean {
  ensure(1);
  const head = pos++;
  let count = 0;
  for (const key in o) {
    if (!Object.hasOwn(o, key)) continue;
    const value = o[key];
    if (value === undefined) continue;
    if (++count === FIX_COUNT) {
      pos = head;
      return writeMapCounted(o, depth);
    }
    if (!writeKey(key) || !writeValue(value, depth)) return false;
  }
  // `out` may have grown meanwhile: the bytes so far were copied, so `head` is still the header's place.
  out[head] = FIXMAP | count;
  return true;
}

function writeMapCounted(o: Record<string, unknown>, depth: number): boolean {
  let count = 0;
  for (const key in o) if (Object.hasOwn(o, key) && o[key] !== undefined) count++;
  sized(count, FIXMAP, FIX_COUNT, 0, MAP16, MAP32);
  for (const key in o) {
    if (!Object.hasOwn(o, key)) continue;
    const value = o[key];
    if (value === undefined) continue;
    if (!writeKey(key) || !writeValue(value, depth)) return false;
  }
  return true;
}

function writeValue(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
      return writeString(v);
    case 'number':
      writeNumber(v);
      return true;
    case 'boolean':
      ensure(1);
      byte(v ? TRUE : FALSE);
      return true;
    case 'undefined':
      ensure(1);
      byte(NIL);
      return true;
    case 'object':
      if (v === null) {
        ensure(1);
        byte(NIL);
        return true;
      }
      if (depth >= MAX_DEPTH) return false;
      if (Array.isArray(v)) return writeArray(v, depth + 1);
      if (v instanceof Uint8Array) {
        writeBinary(v);
        return true;
      }
      return isPlainObject(v) ? writeMap(v, depth + 1) : false;
    default:
      return false;
  }
}

/** `value` as the encoder's msgpack bytes, or undefined: use the encoder. */
export function msgpackBytes(value: unknown): Buffer | undefined {
  pos = 0;
  try {
    if (!writeValue(value, 0)) return undefined;
    const bytes = Buffer.allocUnsafe(pos);
    out.copy(bytes, 0, 0, pos);
    return bytes;
  } finally {
    if (out.length > KEPT_BYTES) out = Buffer.allocUnsafe(INITIAL_BYTES);
  }
}

/** `pm` as msgpack: the encoder's bytes, written here when the writer takes every value in it. */
export function encodeMsgpackFast(pm: ProtocolMessage): Uint8Array {
  return msgpackBytes(pm) ?? encodeMsgpack(pm);
}
