/**
 * Wire codecs. JSON is built in; MessagePack is a separate module loaded only when
 * `useBinaryProtocol` is set, so pages that speak JSON never download a msgpack decoder.
 */
import type { Format, ProtocolMessage } from '@encke/protocol/types';
import { Err, ErrorInfo } from '../errors.js';

export interface Codec {
  readonly format: Format;
  /** Content-Type of comet send bodies and `Accept` of recvs. */
  readonly contentType: string;
  /** One ProtocolMessage for one WebSocket frame. */
  encode(pm: ProtocolMessage): string | Uint8Array<ArrayBuffer>;
  /** A comet send body: an array of ProtocolMessages. */
  encodeBatch(pms: readonly ProtocolMessage[]): string | Uint8Array<ArrayBuffer>;
  /** One WebSocket frame. */
  decode(frame: string | ArrayBuffer | Uint8Array): ProtocolMessage;
  /** A comet recv body, read as it arrives: each array of ProtocolMessages once complete. */
  batches(chunks: AsyncIterable<Uint8Array>): AsyncIterable<ProtocolMessage[]>;
}

/** A decoded value as a ProtocolMessage, or a protocol error (80013) if it is not one. */
export function asProtocolMessage(value: unknown): ProtocolMessage {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || typeof (value as { action?: unknown }).action !== 'number') {
    throw ErrorInfo.of(Err.protocolError, 'Server sent something that is not a ProtocolMessage');
  }
  return value as ProtocolMessage;
}

export function asBatch(value: unknown): ProtocolMessage[] {
  if (!Array.isArray(value)) throw ErrorInfo.of(Err.protocolError, 'Comet body is not an array of ProtocolMessages');
  return value.map(asProtocolMessage);
}

const decoder = new TextDecoder();

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw ErrorInfo.of(Err.protocolError, 'Malformed JSON from server');
  }
}

export const jsonCodec: Codec = {
  format: 'json',
  contentType: 'application/json',
  encode: (pm) => JSON.stringify(pm),
  encodeBatch: (pms) => JSON.stringify(pms),
  decode(frame) {
    const text = typeof frame === 'string' ? frame : decoder.decode(frame);
    return asProtocolMessage(parseJson(text));
  },
  async *batches(chunks) {
    const lines = new TextDecoder();
    let buffered = '';
    for await (const chunk of chunks) {
      buffered += lines.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) yield asBatch(parseJson(line));
      }
    }
    const rest = buffered.trim();
    if (rest) yield asBatch(parseJson(rest));
  },
};

/** The codec for `format`, loading msgpack on first use. */
export async function loadCodec(format: Format): Promise<Codec> {
  if (format === 'json') return jsonCodec;
  const mod = await import('./msgpack.js');
  return mod.msgpackCodec;
}
