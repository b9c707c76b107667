/**
 * encke's set-up frames read and written without the general codec, for the generator's open path
 * (S3 opens 10,000 connections as fast as the server allows, so the generator's cost per open is
 * part of the open rate measured; bench/README, `gen6`).
 *
 * Reading: a CONNECTED or an ATTACHED in the shape encke writes them (`{"action":4,…` with a
 * `"connectionKey":"…"` in it, `{"action":11,"channel":"…",…`, and the same in msgpack: a map whose
 * first entry is `action`) gives its action and the one field the client reads (the connection key,
 * the channel) without building the message (the general decoder made ~15k instructions an open for
 * JSON and ~38k for msgpack, of a bare ws client's ~230k). Anything else (every other action: ERROR,
 * DISCONNECTED, NACK, CLOSED, ACK; a field out of that order; an escape or a non-ASCII byte in the
 * value read) is NOT_READ and goes through the general decoder as before, so every check the client
 * made is still made.
 *
 * Writing: an ATTACH without params as the bytes `encodeJson` / `encodeMsgpack` write for
 * `{action: 10, channel}` (a JSON template; a two-entry msgpack map), for ASCII channels of < 256 bytes.
 */
import { Action } from '@encke/protocol';

/** A frame the fast reader does not read: decode it in full. */
export const NOT_READ = -1;

/** The value `readSetup` read last (the connection key or the channel), valid until the next call: no object per frame. */
export const setup = { value: '' };

const JSON_ACTION = Buffer.from('{"action":', 'latin1');
const JSON_KEY = Buffer.from('"connectionKey":"', 'latin1');
const JSON_CHANNEL = Buffer.from(',"channel":"', 'latin1');
const MP_ACTION = Buffer.from('\xa6action', 'latin1');
const MP_KEY = Buffer.from('\xadconnectionKey', 'latin1');
const MP_CHANNEL = Buffer.from('\xa7channel', 'latin1');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Whether `buf` holds `part` at `at`. */
function has(buf: Buffer, at: number, part: Buffer): boolean {
  if (at + part.length > buf.length) return false;
  for (let i = 0; i < part.length; i++) if (buf[at + i] !== part[i]) return false;
  return true;
}

/** The JSON string's ASCII characters from `from` to its closing quote, or false (an escape, non-ASCII, no end). */
function jsonString(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) {
    const c = buf[i]!;
    if (c === QUOTE) {
      setup.value = buf.toString('latin1', from, i);
      return true;
    }
    if (c === BACKSLASH || c >= 0x80) return false;
  }
  return false;
}

/** The msgpack str (fixstr or str 8) of ASCII bytes at `at`, or false. */
function msgpackString(buf: Buffer, at: number): boolean {
  const b = buf[at];
  if (b === undefined) return false;
  let from = at + 1;
  let length: number;
  if (b >= 0xa0 && b <= 0xbf) length = b & 0x1f;
  else if (b === 0xd9 && at + 1 < buf.length) {
    length = buf[at + 1]!;
    from = at + 2;
  } else return false;
  if (from + length > buf.length) return false;
  for (let i = from; i < from + length; i++) if (buf[i]! >= 0x80) return false;
  setup.value = buf.toString('latin1', from, from + length);
  return true;
}

function readJson(buf: Buffer): number {
  if (!has(buf, 0, JSON_ACTION)) return NOT_READ;
  let i = JSON_ACTION.length;
  let action = 0;
  const start = i;
  for (; i < buf.length && buf[i]! >= 0x30 && buf[i]! <= 0x39 && i - start < 3; i++)
    action = action * 10 + buf[i]! - 0x30;
  if (i === start) return NOT_READ;
  if (action === Action.CONNECTED) {
    const at = buf.indexOf(JSON_KEY, i);
    return at >= 0 && jsonString(buf, at + JSON_KEY.length) ? action : NOT_READ;
  }
  if (action === Action.ATTACHED)
    return has(buf, i, JSON_CHANNEL) && jsonString(buf, i + JSON_CHANNEL.length) ? action : NOT_READ;
  return NOT_READ;
}

function readMsgpack(buf: Buffer): number {
  const b0 = buf[0];
  if (b0 === undefined || b0 < 0x81 || b0 > 0x8f || !has(buf, 1, MP_ACTION)) return NOT_READ;
  const i = 1 + MP_ACTION.length;
  const action = buf[i];
  if (action === Action.CONNECTED) {
    const at = buf.indexOf(MP_KEY, i + 1);
    return at >= 0 && msgpackString(buf, at + MP_KEY.length) ? action : NOT_READ;
  }
  if (action === Action.ATTACHED)
    return has(buf, i + 1, MP_CHANNEL) && msgpackString(buf, i + 1 + MP_CHANNEL.length) ? action : NOT_READ;
  return NOT_READ;
}

/**
 * The action of a CONNECTED or ATTACHED frame in encke's shape, with its connection key or channel
 * in `setup.value`; NOT_READ for any other frame (decode it in full).
 */
export function readSetup(payload: Buffer, binary: boolean): number {
  return binary ? readMsgpack(payload) : readJson(payload);
}

/** Whether every character of `text` is ASCII. */
function isAsciiText(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** `{"action":10,"channel":…}` as JSON text: what `encodeJson` writes for it. */
export function attachJson(channel: string): string {
  return `{"action":${Action.ATTACH},"channel":${JSON.stringify(channel)}}`;
}

/** `{action: 10, channel}` as msgpack (what `encodeMsgpack` writes for it), or null for a channel it leaves to the encoder. */
export function attachMsgpack(channel: string): Buffer | null {
  if (channel.length > 255 || !isAsciiText(channel)) return null;
  const head = channel.length < 32 ? 1 : 2;
  const out = Buffer.allocUnsafe(1 + MP_ACTION.length + 1 + MP_CHANNEL.length + head + channel.length);
  let at = 0;
  out[at++] = 0x82;
  at += MP_ACTION.copy(out, at);
  out[at++] = Action.ATTACH;
  at += MP_CHANNEL.copy(out, at);
  if (head === 1) out[at++] = 0xa0 | channel.length;
  else {
    out[at++] = 0xd9;
    out[at++] = channel.length;
  }
  out.write(channel, at, 'latin1');
  return out;
}
