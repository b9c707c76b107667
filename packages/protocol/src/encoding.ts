/**
 * Message data encoding rules (RSL4, RSL6, protocol fact sheet §2.3).
 *
 * The server stores binary payloads as bytes whatever format they arrived in. A JSON client sends
 * bytes as a base64 string with `base64` as the last step of `encoding`; a msgpack client sends a
 * `bin`. On the way out, a JSON client gets base64 with `/base64` appended to the encoding, and a
 * msgpack client gets the raw `bin`. Every other step (`json`, `utf-8`, `cipher+…`, `vcdiff`) is the
 * client's business and passes through untouched.
 */
import { AblyError, Err } from './errors.js';
import type { Data, Format } from './types.js';

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes strict base64 (the padded alphabet the SDKs produce); throws 40013 otherwise. */
export function decodeBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0 || !BASE64_RE.test(text)) {
    throw new AblyError(Err.invalidDataOrEncoding, 'Invalid base64 data for encoding "base64"');
  }
  const buf = Buffer.from(text, 'base64');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Splits off the last step of an encoding chain: `"utf-8/base64"` → `["utf-8", "base64"]`. */
function splitLastStep(encoding: string): [rest: string | undefined, last: string] {
  const slash = encoding.lastIndexOf('/');
  return slash < 0 ? [undefined, encoding] : [encoding.slice(0, slash), encoding.slice(slash + 1)];
}

export interface EncodedData {
  data?: Data;
  encoding?: string;
}

/**
 * Normalises inbound data: a string whose last encoding step is `base64` becomes bytes (the step is
 * removed); a msgpack `bin` is copied so that it no longer pins the frame it was decoded from.
 */
export function normaliseInboundData<T extends EncodedData>(item: T): T {
  const { data, encoding } = item;
  if (data instanceof Uint8Array) {
    item.data = data.slice();
    return item;
  }
  if (typeof data === 'string' && encoding) {
    const [rest, last] = splitLastStep(encoding);
    if (last === 'base64') {
      item.data = decodeBase64(data);
      if (rest) item.encoding = rest;
      else delete item.encoding;
    }
  }
  return item;
}

/** The data and encoding to write for `format`: bytes become base64 (with `/base64`) for JSON. */
export function outboundData(data: Data | undefined, encoding: string | undefined, format: Format): EncodedData {
  if (format === 'json' && data instanceof Uint8Array) {
    return { data: encodeBase64(data), encoding: encoding ? `${encoding}/base64` : 'base64' };
  }
  return { data, encoding };
}

/** Size of a payload in bytes as the SDKs count it (TO3l8): utf-8 bytes of strings, length of bytes. */
export function dataSize(data: Data | undefined): number {
  if (data === undefined) return 0;
  return typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.byteLength;
}
