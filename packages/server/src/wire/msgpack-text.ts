/**
 * Pieces of msgpack written as latin1 text (one char a byte), for messages assembled from a
 * template: the pieces are concatenated as a string and made bytes in one `Buffer.from(text,
 * 'latin1')`. Each writes what @msgpack/msgpack (the protocol's encoder) writes for the value: the
 * shortest header that fits (test/src/unit/control-frames.test.ts compares them byte for byte).
 */
import { encodeMsgpackValue } from '@encke/protocol';

/** msgpack fixmap: up to 15 entries, the count in the low nibble of a one-byte header. */
export const FIXMAP = 0x80;
export const FIXMAP_MAX = 15;
const FIXSTR = 0xa0;
const FIXSTR_MAX = 31;
const STR8 = 0xd9;
const STR16 = 0xda;
const STR32 = 0xdb;
const FIXARRAY = 0x90;
const FIXARRAY_MAX = 15;
const ARRAY16 = 0xdc;
const ARRAY32 = 0xdd;
/** msgpack nil, as text. */
export const NIL_TEXT = String.fromCharCode(0xc0);
const POSITIVE_FIXINT_MAX = 0x7f;
const UINT8 = 0xcc;
const UINT16 = 0xcd;
const UINT32 = 0xce;
const BYTE = 0xff;
const UINT16_MAX = 0xffff;
const UINT32_MAX = 0xffffffff;

/** The msgpack str header for a string of `length` UTF-8 bytes. */
function strHead(length: number): string {
  if (length <= FIXSTR_MAX) return String.fromCharCode(FIXSTR | length);
  if (length <= BYTE) return String.fromCharCode(STR8, length);
  if (length <= UINT16_MAX) return String.fromCharCode(STR16, length >>> 8, length & BYTE);
  return String.fromCharCode(STR32, length >>> 24, (length >>> 16) & BYTE, (length >>> 8) & BYTE, length & BYTE);
}

/** Printable ASCII: one char is one UTF-8 byte already (ids, keys, serials, most channel names). */
const ASCII = /^[\x20-\x7e]*$/;

/** `s` as a msgpack str. */
export function strText(s: string): string {
  if (ASCII.test(s)) return strHead(s.length) + s;
  const bytes = Buffer.from(s, 'utf8');
  return strHead(bytes.length) + bytes.toString('latin1');
}

/** A non-negative integer up to 2^32 - 1 as msgpack; undefined for anything else (use the encoder). */
export function uintText(n: number): string | undefined {
  if (!Number.isInteger(n) || n < 0 || n > UINT32_MAX) return undefined;
  if (n <= POSITIVE_FIXINT_MAX) return String.fromCharCode(n);
  if (n <= BYTE) return String.fromCharCode(UINT8, n);
  if (n <= UINT16_MAX) return String.fromCharCode(UINT16, n >>> 8, n & BYTE);
  return String.fromCharCode(UINT32, n >>> 24, (n >>> 16) & BYTE, (n >>> 8) & BYTE, n & BYTE);
}

/** The msgpack array header for `count` elements. */
export function arrayHead(count: number): string {
  if (count <= FIXARRAY_MAX) return String.fromCharCode(FIXARRAY | count);
  if (count <= UINT16_MAX) return String.fromCharCode(ARRAY16, count >>> 8, count & BYTE);
  return String.fromCharCode(ARRAY32, count >>> 24, (count >>> 16) & BYTE, (count >>> 8) & BYTE, count & BYTE);
}

/** What the encoder makes of `value`, as text (for a template's constant pieces, made once). */
export function packedText(...values: unknown[]): string {
  return values.map((v) => Buffer.from(encodeMsgpackValue(v)).toString('latin1')).join('');
}

/** Template text as the bytes of a frame. */
export function textBytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}
