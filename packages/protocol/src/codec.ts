/**
 * JSON and MessagePack codecs for ProtocolMessages. One ProtocolMessage per WebSocket frame: a text
 * frame for JSON, a binary frame for msgpack.
 *
 * msgpack keeps `str` and `bin` distinct, drops undefined map entries (ably-js encodes "sparse"), and
 * decodes 64-bit integers as JS numbers (timestamps fit in 2^53). ably's own msgpack fork writes
 * `undefined` as ext type 0 (`d4 00 00`) when not in sparse mode; that decodes to undefined here.
 */
import { Decoder, Encoder, ExtensionCodec } from '@msgpack/msgpack';
import { outboundData } from './encoding.js';
import { AblyError, Err } from './errors.js';
import { parseJson } from './unknown.js';
import { DEFAULT_DECODE_LIMITS, checkJson, checkMsgpack, type DecodeLimits } from './limits.js';
import { NOT_SIMPLE, decodeSimpleMsgpack } from './msgpack-small.js';
import type { Annotation, Format, Message, PresenceMessage, ProtocolMessage } from './types.js';

const extensionCodec = new ExtensionCodec();
extensionCodec.register({ type: 0, encode: () => null, decode: () => undefined });

const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder({ extensionCodec, useBigInt64: false });

/**
 * Decodes a msgpack value within `limits` (see limits.ts): 40000 on malformed input or nesting too
 * deep, 40009 past a size bound. Nothing is allocated before the structure has been checked.
 */
export function decodeMsgpack(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): unknown {
  checkMsgpack(bytes, limits);
  // Most client frames are small maps of ASCII strings and integers: decoded directly (msgpack-small.ts).
  const simple = decodeSimpleMsgpack(bytes);
  if (simple !== NOT_SIMPLE) return simple;
  try {
    return decoder.decode(bytes);
  } catch (err) {
    throw new AblyError(Err.badRequest, `Malformed msgpack: ${(err as Error).message}`);
  }
}

/** Parses JSON text within `limits`: 40000 on malformed input or nesting too deep, 40009 past a size bound. */
export function decodeJson(text: string, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): unknown {
  checkJson(text, limits);
  try {
    return parseJson(text);
  } catch (err) {
    throw new AblyError(Err.badRequest, `Malformed JSON: ${(err as Error).message}`);
  }
}

/** Encodes any value (REST bodies, ProtocolMessages already in wire form) as msgpack. */
export function encodeMsgpackValue(value: unknown): Uint8Array {
  return encoder.encode(value);
}

type Item = Message | PresenceMessage | Annotation;

function hasBinary(items: readonly Item[] | undefined): boolean {
  if (!items) return false;
  for (const item of items) if (item.data instanceof Uint8Array) return true;
  return false;
}

/** A copy of `item` whose binary data is base64 for JSON. */
export function itemForJson<T extends Item>(item: T): T {
  if (!(item.data instanceof Uint8Array)) return item;
  const { data, encoding } = outboundData(item.data, item.encoding, 'json');
  return { ...item, data, encoding };
}

/** The ProtocolMessage as it must be written for `format` (binary payloads base64'd for JSON). */
export function toWire(pm: ProtocolMessage, format: Format): ProtocolMessage {
  if (format === 'msgpack' || (!hasBinary(pm.messages) && !hasBinary(pm.presence) && !hasBinary(pm.annotations)))
    return pm;
  const out: ProtocolMessage = { ...pm };
  if (pm.messages) out.messages = pm.messages.map(itemForJson);
  if (pm.presence) out.presence = pm.presence.map(itemForJson);
  if (pm.annotations) out.annotations = pm.annotations.map(itemForJson);
  return out;
}

export function encodeJson(pm: ProtocolMessage): string {
  return JSON.stringify(toWire(pm, 'json'));
}

export function encodeMsgpack(pm: ProtocolMessage): Uint8Array {
  return encoder.encode(pm);
}

export function encodeProtocolMessage(pm: ProtocolMessage, format: Format): string | Uint8Array {
  return format === 'json' ? encodeJson(pm) : encodeMsgpack(pm);
}

/** Decodes one frame into an untrusted value (validate it with parseProtocolMessage). */
export function decodeFrame(
  frame: string | Uint8Array,
  format: Format,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): unknown {
  if (format === 'json') {
    return decodeJson(
      typeof frame === 'string'
        ? frame
        : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('utf8'),
      limits,
    );
  }
  if (typeof frame === 'string') throw new AblyError(Err.badRequest, 'Expected a binary msgpack frame, got text');
  return decodeMsgpack(frame, limits);
}
