/**
 * What an encke server wrote to a bench client, checked into typed values: the fields the clients
 * read (the action; a channel; CONNECTED's connection key; the params an ATTACHED granted; an
 * error; a MESSAGE's messages for document mode) and nothing else. A frame of another shape is an
 * Error that fails the case, never a guess. Deliveries the sink's scan counts are not decoded at all
 * (payload.ts), so this runs on set-up and control frames, and on every message in document mode
 * (S8), where it checks without copying: the data stays as the server wrote it.
 */
import { isArrayValue, isPlainObject } from '@encke/protocol';

/**
 * A message as document mode reads it (documents.ts): its id (derived as every Ably client derives a
 * missing one, TM2a: `<ProtocolMessage id>:<index>`; the server leaves it out of the frame when it is
 * that, wire/derived-fields.ts), data, encoding and delta reference.
 */
export interface DocumentMessage {
  id?: string;
  data?: string | Uint8Array;
  encoding?: string;
  /** `extras.delta`: the message it is a delta from, and the delta format. */
  delta?: { from?: string; format?: string };
}

export interface ServerFrame {
  action: number;
  channel?: string;
  /** CONNECTED's `connectionDetails.connectionKey`. */
  connectionKey?: string;
  /** The params an ATTACHED granted. */
  params?: Readonly<Record<string, string>>;
  error?: { code?: number; message?: string };
  messages?: DocumentMessage[];
}

function bad(what: string): never {
  throw new Error(`encke bench client: a server frame with ${what}`);
}

function optionalString(value: unknown, what: string): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  return bad(`a ${what} that is not a string`);
}

/** `value` when absent or an object; anything else is refused, `refusal` saying what it is. */
function optionalObject(value: unknown, refusal: string): Readonly<Record<string, unknown>> | undefined {
  if (value === undefined || isPlainObject(value)) return value;
  return bad(refusal);
}

function optionalNumber(value: unknown, what: string): number | undefined {
  if (value === undefined || typeof value === 'number') return value;
  return bad(`a ${what} that is not a number`);
}

function params(value: unknown): Record<string, string> {
  if (!isPlainObject(value)) return bad('params that are not an object');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') return bad(`a param ${k} that is not a string`);
    out[k] = v;
  }
  return out;
}

function documentMessage(value: unknown, frameId: string | undefined, index: number): DocumentMessage {
  if (!isPlainObject(value)) return bad('a message that is not an object');
  const m: DocumentMessage = {};
  const id = optionalString(value.id, 'message id') ?? (frameId === undefined ? undefined : `${frameId}:${index}`);
  if (id !== undefined) m.id = id;
  const { data } = value;
  if (typeof data === 'string' || data instanceof Uint8Array) m.data = data;
  else if (data !== undefined) bad('message data that is neither text nor bytes');
  const encoding = optionalString(value.encoding, 'message encoding');
  if (encoding !== undefined) m.encoding = encoding;
  const delta = optionalObject(
    optionalObject(value.extras, 'message extras that are not an object')?.delta,
    'a delta reference that is not an object',
  );
  if (delta !== undefined) {
    m.delta = {};
    const from = optionalString(delta.from, 'delta from');
    if (from !== undefined) m.delta.from = from;
    const format = optionalString(delta.format, 'delta format');
    if (format !== undefined) m.delta.format = format;
  }
  return m;
}

function serverFrame(value: unknown): ServerFrame {
  if (!isPlainObject(value)) return bad('an element that is not an object');
  const { action } = value;
  if (typeof action !== 'number' || !Number.isInteger(action)) return bad('no integer action');
  const frame: ServerFrame = { action };
  const id = optionalString(value.id, 'id');
  const channel = optionalString(value.channel, 'channel');
  if (channel !== undefined) frame.channel = channel;
  const details = optionalObject(value.connectionDetails, 'connectionDetails that are not an object');
  const key = optionalString(details?.connectionKey, 'connectionKey');
  if (key !== undefined) frame.connectionKey = key;
  if (value.params !== undefined) frame.params = params(value.params);
  const error = optionalObject(value.error, 'an error that is not an object');
  if (error !== undefined) {
    frame.error = {};
    const code = optionalNumber(error.code, 'error code');
    if (code !== undefined) frame.error.code = code;
    const message = optionalString(error.message, 'error message');
    if (message !== undefined) frame.error.message = message;
  }
  const { messages } = value;
  if (messages !== undefined) {
    if (!isArrayValue(messages)) return bad('messages that are not an array');
    frame.messages = messages.map((m, i) => documentMessage(m, id, i));
  }
  return frame;
}

/** A decoded frame (one ProtocolMessage or an array of them, as comet answers), checked. */
export function serverFrames(decoded: unknown): ServerFrame[] {
  return isArrayValue(decoded) ? decoded.map(serverFrame) : [serverFrame(decoded)];
}
