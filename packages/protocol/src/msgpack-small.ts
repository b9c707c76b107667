/**
 * A direct decoder for the common shape of a client's msgpack frame: maps and arrays of ASCII
 * strings, small integers, booleans and nil (an ATTACH, a DETACH, a HEARTBEAT, most publishes).
 * The general decoder (`@msgpack/msgpack`'s Decoder) pays per frame for its set-up (a DataView, a
 * state stack from a pool, a cache of map keys) and decodes strings through its own UTF-8 code:
 * for a frame of a few dozen bytes that is most of an open's decoding (bench/README, "open rate").
 *
 * It runs only on bytes `checkMsgpack` has accepted (limits.ts): the structure is known to be
 * complete, within the depth and length bounds, with nothing after the value, so this pass reads
 * without bounds checks. Anything outside the shape it knows (binary, ext, floats, 64-bit integers,
 * 32-bit lengths, a non-ASCII string, a key that is not a string, a `__proto__` key) makes it give
 * up with NOT_SIMPLE, and the caller decodes the frame with the general decoder: the result, and
 * every error, is then the general decoder's. For what it does decode, the value is the one the
 * general decoder builds (test/src/unit/msgpack-small.test.ts compares the two over random values).
 */
import { isAscii } from './text.js';

/** Returned when the value holds something only the general decoder handles. */
export const NOT_SIMPLE: unique symbol = Symbol('not simple msgpack');

const EMPTY = Buffer.alloc(0);
/** The input and read position of the decode under way (decoding is synchronous and never re-entered). */
let input: Buffer = EMPTY;
let pos = 0;

/** `bytes` (already checked by checkMsgpack) decoded, or NOT_SIMPLE. */
export function decodeSimpleMsgpack(bytes: Uint8Array): unknown {
  input = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  pos = 0;
  try {
    return value();
  } finally {
    input = EMPTY; // the frame is not kept alive by this module
  }
}

/** Strings this long are checked by a regular expression (native) instead of a loop over their bytes. */
const NATIVE_CHECK_FROM = 16;

/** The string of `length` bytes at `pos`, if every byte is ASCII (then UTF-8 and Latin-1 agree). */
function ascii(length: number): string | typeof NOT_SIMPLE {
  const start = pos;
  const end = start + length;
  if (length >= NATIVE_CHECK_FROM) {
    // A message's data: a JavaScript loop over its bytes was most of a publish's decoding.
    const text = input.toString('latin1', start, end);
    if (!isAscii(text)) return NOT_SIMPLE;
    pos = end;
    return text;
  }
  for (let i = start; i < end; i++) if (input[i]! >= 0x80) return NOT_SIMPLE;
  pos = end;
  return input.toString('latin1', start, end);
}

function u16(at: number): number {
  return (input[at]! << 8) | input[at + 1]!;
}

function u32(at: number): number {
  return input[at]! * 0x1000000 + ((input[at + 1]! << 16) | (input[at + 2]! << 8) | input[at + 3]!);
}

/**
 * The keys client frames are made of, by length: a map's key that is one of them is matched against
 * its bytes and the constant returned, without the native call that makes a string (bench/README,
 * `pubpath2`: a publish's frame has six keys or more).
 */
const KEYS_BY_LENGTH: readonly (readonly string[])[] = (() => {
  const byLength: string[][] = Array.from({ length: NATIVE_CHECK_FROM }, () => []);
  for (const key of [
    ...['action', 'id', 'channel', 'channelSerial', 'msgSerial', 'flags', 'params', 'auth', 'accessToken'],
    ...['messages', 'presence', 'annotations', 'name', 'data', 'encoding', 'extras', 'clientId', 'connectionId'],
    ...['connectionKey', 'timestamp', 'serial', 'version', 'type', 'count', 'description', 'metadata', 'size'],
  ])
    byLength[key.length]!.push(key);
  return byLength;
})();

/** The key at `pos` when it is a short fixstr of a known key (then read), else undefined (nothing read). */
function knownKey(): string | undefined {
  const head = input[pos]!;
  if (head < 0xa0 || head >= 0xa0 + NATIVE_CHECK_FROM) return undefined;
  const length = head & 0x1f;
  const keys = KEYS_BY_LENGTH[length]!;
  const start = pos + 1;
  next: for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    for (let i = 0; i < length; i++) if (input[start + i] !== key.charCodeAt(i)) continue next;
    pos = start + length;
    return key;
  }
  return undefined;
}

function map(size: number): object | typeof NOT_SIMPLE {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < size; i++) {
    const key = knownKey() ?? value();
    // Number keys, other key types and `__proto__`: the general decoder's rules and errors apply.
    if (typeof key !== 'string' || key === '__proto__') return NOT_SIMPLE;
    const v = value();
    if (v === NOT_SIMPLE) return NOT_SIMPLE;
    out[key] = v;
  }
  return out;
}

function array(size: number): unknown[] | typeof NOT_SIMPLE {
  const out = new Array<unknown>(size);
  for (let i = 0; i < size; i++) {
    const v = value();
    if (v === NOT_SIMPLE) return NOT_SIMPLE;
    out[i] = v;
  }
  return out;
}

/** The value at `pos`, or NOT_SIMPLE. */
function value(): unknown {
  const b = input[pos++]!;
  if (b < 0x80) return b; // positive fixint
  if (b >= 0xe0) return b - 0x100; // negative fixint
  if (b < 0x90) return map(b & 0x0f);
  if (b < 0xa0) return array(b & 0x0f);
  if (b < 0xc0) return ascii(b & 0x1f);
  switch (b) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xcc:
      return input[pos++]!;
    case 0xcd:
      pos += 2;
      return u16(pos - 2);
    case 0xce:
      pos += 4;
      return u32(pos - 4);
    case 0xd0:
      return (input[pos++]! << 24) >> 24;
    case 0xd1:
      pos += 2;
      return (u16(pos - 2) << 16) >> 16;
    case 0xd2:
      pos += 4;
      return u32(pos - 4) | 0;
    case 0xd9:
      return ascii(input[pos++]!);
    case 0xda:
      pos += 2;
      return ascii(u16(pos - 2));
    case 0xdc:
      pos += 2;
      return array(u16(pos - 2));
    case 0xde:
      pos += 2;
      return map(u16(pos - 2));
    default:
      return NOT_SIMPLE;
  }
}
