/**
 * Comet bodies (docs/protocol.md "Comet"). Server → client, a body is an array of ProtocolMessages:
 * in JSON one array per line, each ending in `\n` (ably-js on Node reads recv responses as a stream
 * of lines and never parses a line without its newline); in msgpack one msgpack array per batch,
 * concatenated (msgpack values delimit themselves). Client → server, a send body is one array of
 * ProtocolMessages in either format.
 *
 * Frames keep their per-format encoding cache (OutboundFrame), so a batch is assembled from
 * encodings made once per format, never re-serialised per connection.
 */
import {
  AblyError,
  Err,
  PayloadError,
  decodeJson,
  decodeLimits,
  isArrayValue,
  parseProtocolMessage,
  type Format,
} from '@encke/protocol';
import { JSON_TYPE, MSGPACK_TYPE } from '../../http/body.js';
import type { OutboundFrame } from '../../wire/frame.js';
import type { Inbound } from '../../session/port.js';

/** The name of the query parameter that carries the messages of a `GET …/send`. */
export const SEND_QUERY_PARAM = 'body';

const EMPTY_JSON = Buffer.from('[]\n');
const EMPTY_MSGPACK = Buffer.from([0x90]);

/** One batch of frames as a comet body chunk: a JSON array line, or a msgpack array. */
export function encodeBatch(frames: readonly OutboundFrame[], format: Format): Buffer {
  if (frames.length === 0) return format === 'json' ? EMPTY_JSON : EMPTY_MSGPACK;
  if (format === 'json') return Buffer.from(jsonBatch(frames));
  const parts: Uint8Array[] = [msgpackArrayHeader(frames.length)];
  for (const f of frames) parts.push(f.msgpack());
  return Buffer.concat(parts);
}

/** A msgpack array header for `length` elements (fixarray, array 16 or array 32). */
function msgpackArrayHeader(length: number): Buffer {
  if (length < 16) return Buffer.from([0x90 | length]);
  if (length < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = 0xdc;
    b.writeUInt16BE(length, 1);
    return b;
  }
  const b = Buffer.alloc(5);
  b[0] = 0xdd;
  b.writeUInt32BE(length, 1);
  return b;
}

export function contentType(format: Format): string {
  return format === 'json' ? JSON_TYPE : MSGPACK_TYPE;
}

/** The format an `Accept` header names explicitly, if it names one we speak. */
export function acceptedFormat(accept: string | undefined): Format | undefined {
  if (!accept) return undefined;
  if (accept.includes(MSGPACK_TYPE)) return 'msgpack';
  if (accept.includes(JSON_TYPE)) return 'json';
  return undefined;
}

/**
 * Validates a decoded send body into client messages, in order. A broken envelope anywhere fails
 * the whole body (nothing is delivered); a broken payload is kept as a PayloadError to be NACKed.
 */
export function parseSendBody(raw: unknown): Inbound[] {
  if (!isArrayValue(raw)) throw new AblyError(Err.badRequest, 'A comet send body must be an array of ProtocolMessages');
  const out: Inbound[] = [];
  for (const item of raw) {
    try {
      out.push(parseProtocolMessage(item));
    } catch (err) {
      if (err instanceof PayloadError) out.push(err);
      else throw err;
    }
  }
  return out;
}

/** The JSON messages of a `GET …/send?body=<url-encoded JSON array>`. */
export function decodeQueryBody(query: URLSearchParams, maxBytes: number): unknown {
  const text = query.get(SEND_QUERY_PARAM);
  if (text === null || text === '')
    throw new AblyError(
      Err.invalidRequestBody,
      `GET send needs the messages in the "${SEND_QUERY_PARAM}" query parameter`,
    );
  const size = Buffer.byteLength(text, 'utf8');
  if (size > maxBytes)
    throw new AblyError(Err.requestTooLarge, `Request body of ${size} bytes exceeds the limit of ${maxBytes}`);
  return decodeJson(text, decodeLimits(maxBytes));
}

/** The UTF-8 length of `jsonBatch(frames)`, from the frames' own counts (no pass over the batch). */
export function jsonBatchBytes(frames: readonly OutboundFrame[]): number {
  let n = frames.length === 0 ? 3 : frames.length + 2;
  for (const f of frames) n += f.jsonBytes();
  return n;
}

/**
 * A JSON batch as text (`[<frame>,…]\n`). A whole response given as text goes out with its header
 * in one write; node:http sends a Buffer body as a second piece.
 */
export function jsonBatch(frames: readonly OutboundFrame[]): string {
  if (frames.length === 1) return `[${frames[0]!.json()}]\n`;
  let text = '[';
  for (let i = 0; i < frames.length; i++) text += (i === 0 ? '' : ',') + frames[i]!.json();
  return text + ']\n';
}
