/**
 * Message data encoding (RSL4, RSL6): strings as they are, bytes as msgpack `bin` or base64 in
 * JSON, objects and arrays as JSON with the `json` step. Decoding undoes the steps it knows
 * (`base64`, `utf-8`, `json`) from the last; an unknown step (`cipher+…`, `vcdiff`) stops it and the
 * rest of the encoding is left on the message.
 */
import type { ParseJson } from '../util/unknown.js';
import type { Message as WireMessage, PresenceMessage as WirePresence } from '@encke/protocol/types';
import { fromBase64, toBase64, utf8Decode } from '../util/bytes.js';

/** What an application may publish: text, bytes, or anything JSON can carry. */
export type MessageData =
  | string
  | Uint8Array
  | ArrayBuffer
  | number
  | boolean
  | null
  | readonly unknown[]
  | { readonly [key: string]: unknown };

export interface Message {
  id?: string;
  name?: string;
  data?: unknown;
  encoding?: string;
  clientId?: string;
  connectionId?: string;
  timestamp?: number;
  serial?: string;
  extras?: Record<string, unknown>;
  action?: number;
}

export interface PresenceMessage {
  id?: string;
  action: PresenceActionName;
  clientId: string;
  connectionId: string;
  data?: unknown;
  encoding?: string;
  timestamp?: number;
}

export type PresenceActionName = 'absent' | 'present' | 'enter' | 'leave' | 'update';

/** Encodes application data for the wire format. */
export function encodeData(
  data: unknown,
  format: 'json' | 'msgpack',
): { data?: string | Uint8Array; encoding?: string } {
  if (data === undefined) return {};
  if (typeof data === 'string') return { data };
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data instanceof Uint8Array ? data : undefined;
  if (bytes) return format === 'msgpack' ? { data: bytes } : { data: toBase64(bytes), encoding: 'base64' };
  return { data: JSON.stringify(data), encoding: 'json' };
}

/** Decodes wire data in place on a copy: returns data and whatever encoding steps remain. */
export function decodeData(data: unknown, encoding: string | undefined): { data: unknown; encoding?: string } {
  if (!encoding) return { data };
  const steps = encoding.split('/');
  let value = data;
  while (steps.length > 0) {
    const step = steps[steps.length - 1];
    try {
      if (step === 'base64' && typeof value === 'string') value = fromBase64(value);
      else if (step === 'utf-8' && value instanceof Uint8Array) value = utf8Decode(value);
      else if (step === 'json' && typeof value === 'string') value = (JSON.parse as ParseJson)(value);
      else break;
    } catch {
      break;
    }
    steps.pop();
  }
  return steps.length > 0 ? { data: value, encoding: steps.join('/') } : { data: value };
}

export function decodeMessage(m: WireMessage): Message {
  const { data, encoding } = decodeData(m.data, m.encoding);
  const out: Message = { ...m, data };
  if (encoding) out.encoding = encoding;
  else delete out.encoding;
  return out;
}
