/**
 * Wire codecs. JSON is built in; MessagePack is a separate module loaded only when
 * `useBinaryProtocol` is set, so pages that speak JSON never download a msgpack decoder. A wire
 * format only turns bytes into values and back; checking that a value is a ProtocolMessage (or an
 * array of them) is done here, once, for both.
 */
import type { ParseJson } from '../util/unknown.js';
import type { Format, ProtocolMessage } from '@encke/protocol/types';
import { Err, ErrorInfo } from '../errors.js';

/** A wire format: values to frames and bodies, and back. Throws on malformed input. */
export interface WireFormat {
  readonly format: Format;
  readonly contentType: string;
  encode(value: unknown): string | Uint8Array<ArrayBuffer>;
  decode(frame: string | ArrayBuffer | Uint8Array): unknown;
  /** The values of a body made of several (JSON lines, concatenated msgpack), as they complete. */
  values(chunks: AsyncIterable<Uint8Array, void, undefined>): AsyncIterable<unknown, void, undefined>;
}

export interface Codec {
  readonly format: Format;
  /** Content-Type of comet send bodies and `Accept` of recvs. */
  readonly contentType: string;
  /** One ProtocolMessage for one WebSocket frame. */
  encode(pm: ProtocolMessage): string | Uint8Array<ArrayBuffer>;
  /** A comet send body: an array of ProtocolMessages. */
  encodeBatch(pms: readonly ProtocolMessage[]): string | Uint8Array<ArrayBuffer>;
  /** One WebSocket frame; a protocol error (80013) if it is not a ProtocolMessage. */
  decode(frame: string | ArrayBuffer | Uint8Array): ProtocolMessage;
  /** A decoded comet batch (an SSE event's, a JSONP envelope's): a protocol error (80013) if it is not an array of ProtocolMessages. */
  batch(value: unknown): ProtocolMessage[];
  /** A comet recv body, read as it arrives: each array of ProtocolMessages once complete. */
  batches(chunks: AsyncIterable<Uint8Array, void, undefined>): AsyncIterable<ProtocolMessage[], void, undefined>;
}

const malformed = (format: Format): ErrorInfo => ErrorInfo.of(Err.protocolError, `Malformed ${format} from server`);

function asProtocolMessage(value: unknown): ProtocolMessage {
  if (
    value === null ||
    typeof value !== 'object' ||
    Array.isArray(value) ||
    typeof (value as { action?: unknown }).action !== 'number'
  ) {
    throw ErrorInfo.of(Err.protocolError, 'Server sent something that is not a ProtocolMessage');
  }
  return value as ProtocolMessage;
}

function asBatch(value: unknown): ProtocolMessage[] {
  if (!Array.isArray(value)) throw ErrorInfo.of(Err.protocolError, 'Comet body is not an array of ProtocolMessages');
  return value.map(asProtocolMessage);
}

export function codecOf(wire: WireFormat): Codec {
  return {
    format: wire.format,
    contentType: wire.contentType,
    encode: wire.encode,
    encodeBatch: wire.encode,
    batch: asBatch,
    decode(frame) {
      let value: unknown;
      try {
        value = wire.decode(frame);
      } catch {
        throw malformed(wire.format);
      }
      return asProtocolMessage(value);
    },
    // A body that does not parse fails the recv like a broken network: the transport is dropped
    // and the connection resumes (a proxy that mangles one response need not end it).
    async *batches(chunks) {
      for await (const value of wire.values(chunks)) yield asBatch(value);
    },
  };
}

const text = new TextDecoder();

export const jsonWire: WireFormat = {
  format: 'json',
  contentType: 'application/json',
  encode: (value) => JSON.stringify(value),
  decode: (frame) => (JSON.parse as ParseJson)(typeof frame === 'string' ? frame : text.decode(frame)),
  // One array per line; the last, unfinished line waits for the next chunk.
  async *values(chunks) {
    const utf8 = new TextDecoder();
    let rest = '';
    for await (const chunk of chunks) {
      const lines = (rest + utf8.decode(chunk, { stream: true })).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) yield (JSON.parse as ParseJson)(line);
    }
    if (rest.trim()) yield (JSON.parse as ParseJson)(rest);
  },
};

/** The codec for `format`, loading msgpack on first use. */
export async function loadCodec(format: Format): Promise<Codec> {
  return codecOf(format === 'json' ? jsonWire : (await import('./msgpack.js')).msgpackWire);
}
