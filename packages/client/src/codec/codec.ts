/**
 * Wire codecs. JSON is built in; MessagePack is a separate module loaded only when
 * `useBinaryProtocol` is set, so pages that speak JSON never download a msgpack decoder. A wire
 * format only turns bytes into values and back; checking that a value is a ProtocolMessage (or an
 * array of them) is done here, once, for both.
 */
import type { Format, ProtocolMessage } from '@encke/protocol/types';
import { Err, ErrorInfo } from '../errors.js';

/** A wire format: values to frames and bodies, and back. Throws on malformed input. */
export interface WireFormat {
  readonly format: Format;
  readonly contentType: string;
  encode(value: unknown): string | Uint8Array<ArrayBuffer>;
  decode(frame: string | ArrayBuffer | Uint8Array): unknown;
  /** The values of a body made of several (JSON lines, concatenated msgpack), as they complete. */
  values(chunks: AsyncIterable<Uint8Array>): AsyncIterable<unknown>;
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
  /** A comet recv body, read as it arrives: each array of ProtocolMessages once complete. */
  batches(chunks: AsyncIterable<Uint8Array>): AsyncIterable<ProtocolMessage[]>;
}

const malformed = (format: Format): ErrorInfo => ErrorInfo.of(Err.protocolError, `Malformed ${format} from server`);

function asProtocolMessage(value: unknown): ProtocolMessage {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || typeof (value as { action?: unknown }).action !== 'number') {
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
    encode: (pm) => wire.encode(pm),
    encodeBatch: (pms) => wire.encode(pms),
    decode(frame) {
      let value: unknown;
      try {
        value = wire.decode(frame);
      } catch {
        throw malformed(wire.format);
      }
      return asProtocolMessage(value);
    },
    async *batches(chunks) {
      const it = wire.values(chunks)[Symbol.asyncIterator]();
      for (;;) {
        let step: IteratorResult<unknown>;
        try {
          step = await it.next();
        } catch (err) {
          // A broken body and a broken network look alike here; only a decoder's own error is 80013.
          throw err instanceof SyntaxError || (err instanceof Error && err.name === 'DecodeError') ? malformed(wire.format) : err;
        }
        if (step.done) return;
        yield asBatch(step.value);
      }
    },
  };
}

const text = new TextDecoder();

export const jsonWire: WireFormat = {
  format: 'json',
  contentType: 'application/json',
  encode: (value) => JSON.stringify(value),
  decode: (frame) => JSON.parse(typeof frame === 'string' ? frame : text.decode(frame)) as unknown,
  async *values(chunks) {
    const lines = new TextDecoder();
    let buffered = '';
    for await (const chunk of chunks) {
      buffered += lines.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) yield JSON.parse(line) as unknown;
      }
    }
    const rest = buffered.trim();
    if (rest) yield JSON.parse(rest) as unknown;
  },
};

/** The codec for `format`, loading msgpack on first use. */
export async function loadCodec(format: Format): Promise<Codec> {
  return codecOf(format === 'json' ? jsonWire : (await import('./msgpack.js')).msgpackWire);
}
