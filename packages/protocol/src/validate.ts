/**
 * Validation of untrusted input into typed wire values. Unknown fields are dropped (ably-js sends
 * `size` on every message, newer clients send fields we do not know); wrong types are rejected with
 * a message that names the field.
 *
 * Two levels of failure, because they end differently:
 * - the envelope (action, channel, msgSerial, …) is broken: {@link AblyError}, the connection fails;
 * - the payload (messages, presence) is broken: {@link PayloadError}, carrying the envelope so the
 *   server can NACK that one publish and keep the connection.
 */
import { AblyError, Err, type ErrorDef } from './errors.js';
import { normaliseInboundData } from './encoding.js';
import { isArrayValue } from './unknown.js';
import type { Annotation, Data, Message, MessageVersion, PresenceMessage, ProtocolMessage } from './types.js';

/** A publish whose envelope is sound but whose messages are not; the server NACKs it. */
export class PayloadError extends AblyError {
  readonly envelope: ProtocolMessage;
  constructor(def: ErrorDef, message: string, envelope: ProtocolMessage) {
    super(def, message);
    this.envelope = envelope;
  }
}

type Obj = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Obj {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) return false;
  // Reflect's is typed (object | null); Object.getPrototypeOf's result is `any`.
  const proto = Reflect.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function fail(def: ErrorDef, message: string): never {
  throw new AblyError(def, message);
}

function optString(obj: Obj, key: string, where: string, def: ErrorDef = Err.badRequest): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(def, `${where}.${key} must be a string`);
  return v;
}

function optInt(obj: Obj, key: string, where: string, min = 0): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    fail(Err.badRequest, `${where}.${key} must be an integer >= ${min}`);
  }
  return v;
}

function optNumber(obj: Obj, key: string, where: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(Err.badRequest, `${where}.${key} must be a number`);
  return v;
}

function optObject(obj: Obj, key: string, where: string): Obj | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!isPlainObject(v)) fail(Err.badRequest, `${where}.${key} must be an object`);
  return v;
}

/**
 * Deepest `extras` accepted (the extras object itself is level 1). With the levels of a
 * ProtocolMessage or a REST envelope around it, this stays far within what every encoder
 * serialises (msgpack: 100 levels), so anything accepted can be delivered, stored and replayed.
 */
export const MAX_EXTRAS_DEPTH = 32;

function badExtras(where: string, problem: string): never {
  throw new AblyError(Err.invalidExtras, `${where}.extras ${problem}`);
}

/**
 * Checks that `extras` is plain JSON (objects, arrays, strings, finite numbers, booleans, null),
 * nested at most {@link MAX_EXTRAS_DEPTH} levels, without `__proto__` keys (which msgpack
 * decoders refuse): 40032 otherwise. Iterative, so no input can exhaust the stack.
 */
export function checkExtras(extras: Obj, where: string): void {
  const stack: [value: unknown, depth: number][] = [[extras, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value === 'string' || typeof value === 'boolean') continue;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) badExtras(where, 'may hold only finite numbers');
      continue;
    }
    const isArray = isArrayValue(value);
    if (!isArray && !isPlainObject(value))
      badExtras(where, 'must be plain JSON (objects, arrays, strings, numbers, booleans, null)');
    if (depth > MAX_EXTRAS_DEPTH) badExtras(where, `must not be nested deeper than ${MAX_EXTRAS_DEPTH} levels`);
    if (isArray) {
      for (const item of value) stack.push([item, depth + 1]);
    } else {
      for (const key of Object.keys(value)) {
        if (key === '__proto__') badExtras(where, 'must not have a "__proto__" key');
        stack.push([value[key], depth + 1]);
      }
    }
  }
}

function optData(obj: Obj, where: string): Data | undefined {
  const v = obj.data;
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' || v instanceof Uint8Array) return v;
  return fail(
    Err.invalidDataOrEncoding,
    `${where}.data must be a string or binary (encode objects as JSON with encoding "json")`,
  );
}

/** ATTACH params: ably-js passes `channelOptions.params` unchanged, so values may be numbers or booleans. */
function parseParams(obj: Obj): Record<string, string> | undefined {
  const raw = optObject(obj, 'params', 'ProtocolMessage');
  if (!raw) return undefined;
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === 'string') params[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') params[k] = String(v);
    else fail(Err.badRequest, `ProtocolMessage.params.${k} must be a string`);
  }
  return params;
}

/** The fields messages and presence messages share. */
type CommonFields = Pick<
  Message & PresenceMessage,
  'id' | 'clientId' | 'connectionId' | 'data' | 'encoding' | 'extras' | 'timestamp'
>;

/** Copies the shared fields of `raw` that are present, validated, onto `target`. */
function parseCommonFields<T extends CommonFields>(raw: Obj, where: string, target: T): T {
  const id = optString(raw, 'id', where, Err.invalidMessageId);
  if (id !== undefined) target.id = id;
  const clientId = optString(raw, 'clientId', where, Err.invalidClientId);
  if (clientId !== undefined) target.clientId = clientId;
  const connectionId = optString(raw, 'connectionId', where);
  if (connectionId !== undefined) target.connectionId = connectionId;
  const data = optData(raw, where);
  if (data !== undefined) target.data = data;
  const encoding = optString(raw, 'encoding', where, Err.invalidDataOrEncoding);
  if (encoding !== undefined) target.encoding = encoding;
  const extras = optObject(raw, 'extras', where);
  if (extras !== undefined) {
    checkExtras(extras, where);
    target.extras = extras;
  }
  const timestamp = optNumber(raw, 'timestamp', where);
  if (timestamp !== undefined) target.timestamp = timestamp;
  return target;
}

/**
 * The operation of an update, delete or append (`version`: clientId, description, metadata of
 * string values); the serial and timestamp a client may echo back are the server's to assign.
 */
function parseOperation(raw: Obj, where: string): MessageVersion {
  const op: MessageVersion = {};
  const clientId = optString(raw, 'clientId', where, Err.invalidClientId);
  if (clientId !== undefined) op.clientId = clientId;
  const description = optString(raw, 'description', where);
  if (description !== undefined) op.description = description;
  const metadata = optObject(raw, 'metadata', where);
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') fail(Err.badRequest, `${where}.metadata.${k} must be a string`);
      if (k === '__proto__') fail(Err.badRequest, `${where}.metadata must not have a "__proto__" key`);
    }
    op.metadata = metadata as Record<string, string>;
  }
  return op;
}

/** Validates one message of a publish (realtime MESSAGE or REST body). */
export function parseMessage(raw: unknown, where = 'message'): Message {
  if (!isPlainObject(raw)) fail(Err.badRequest, `${where} must be an object`);
  const msg = parseCommonFields<Message>(raw, where, {});
  const connectionKey = optString(raw, 'connectionKey', where);
  if (connectionKey !== undefined) msg.connectionKey = connectionKey;
  const name = optString(raw, 'name', where);
  if (name !== undefined) msg.name = name;
  const action = optInt(raw, 'action', where);
  if (action !== undefined) msg.action = action;
  // An update, delete or append names its message by serial and describes itself in `version`.
  const serial = optString(raw, 'serial', where, Err.invalidParameterValue);
  if (serial !== undefined) msg.serial = serial;
  const version = optObject(raw, 'version', where);
  if (version !== undefined) msg.version = parseOperation(version, `${where}.version`);
  return normaliseInboundData(msg);
}

/** Validates one annotation (realtime ANNOTATION or REST body); the summary rules check its type later. */
export function parseAnnotation(raw: unknown, where = 'annotation'): Annotation {
  if (!isPlainObject(raw)) fail(Err.badRequest, `${where} must be an object`);
  const action = optInt(raw, 'action', where) ?? 0;
  const a = parseCommonFields<Annotation>(raw, where, { action });
  const messageSerial = optString(raw, 'messageSerial', where, Err.invalidParameterValue);
  if (messageSerial !== undefined) a.messageSerial = messageSerial;
  const type = optString(raw, 'type', where, Err.invalidParameterValue);
  if (type !== undefined) a.type = type;
  const name = optString(raw, 'name', where, Err.invalidParameterValue);
  if (name !== undefined) a.name = name;
  const count = optInt(raw, 'count', where);
  if (count !== undefined) a.count = count;
  return normaliseInboundData(a);
}

/** Validates one presence message. */
export function parsePresenceMessage(raw: unknown, where = 'presence'): PresenceMessage {
  if (!isPlainObject(raw)) fail(Err.badRequest, `${where} must be an object`);
  const action = optInt(raw, 'action', where);
  if (action === undefined) fail(Err.badRequest, `${where}.action is required`);
  return normaliseInboundData(parseCommonFields<PresenceMessage>(raw, where, { action }));
}

/** Items whose name (`messages[0]`, …) is made once, not per frame: most frames carry one or a few. */
const NAMED_ITEMS = 8;
type ItemKey = 'messages' | 'presence' | 'annotations';
const ITEM_NAMES: Readonly<Record<ItemKey, readonly string[]>> = {
  messages: itemNames('messages'),
  presence: itemNames('presence'),
  annotations: itemNames('annotations'),
};

function itemNames(key: ItemKey): string[] {
  return Array.from({ length: NAMED_ITEMS }, (_, i) => `${key}[${i}]`);
}

/** The name errors give item `i` of `key` (only read in an error: a made string per item was garbage per publish). */
function itemName(key: ItemKey, i: number): string {
  return ITEM_NAMES[key][i] ?? `${key}[${i}]`;
}

function parseArray<T>(raw: unknown, key: ItemKey, parse: (item: unknown, where: string) => T): T[] {
  if (!isArrayValue(raw)) fail(Err.badRequest, `ProtocolMessage.${key} must be an array`);
  const out: T[] = new Array<T>(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = parse(raw[i], itemName(key, i));
  return out;
}

/**
 * Validates a decoded client frame into a ProtocolMessage. Throws {@link AblyError} when the
 * envelope is unusable and {@link PayloadError} when only `messages`/`presence` are.
 */
export function parseProtocolMessage(raw: unknown): ProtocolMessage {
  if (!isPlainObject(raw)) fail(Err.badRequest, 'ProtocolMessage must be an object');
  const where = 'ProtocolMessage';
  const action = optInt(raw, 'action', where);
  if (action === undefined) fail(Err.badRequest, 'ProtocolMessage.action is required');
  const pm: ProtocolMessage = { action };
  const id = optString(raw, 'id', where);
  if (id !== undefined) pm.id = id;
  const channel = optString(raw, 'channel', where, Err.invalidChannelName);
  if (channel !== undefined) pm.channel = channel;
  const channelSerial = optString(raw, 'channelSerial', where);
  if (channelSerial !== undefined) pm.channelSerial = channelSerial;
  const msgSerial = optInt(raw, 'msgSerial', where);
  if (msgSerial !== undefined) pm.msgSerial = msgSerial;
  const flags = optInt(raw, 'flags', where);
  if (flags !== undefined) pm.flags = flags;
  const params = parseParams(raw);
  if (params !== undefined) pm.params = params;
  const auth = optObject(raw, 'auth', where);
  if (auth !== undefined) {
    const accessToken = optString(auth, 'accessToken', `${where}.auth`);
    if (accessToken === undefined) fail(Err.badRequest, 'ProtocolMessage.auth.accessToken is required');
    pm.auth = { accessToken };
  }
  try {
    if (raw.messages !== undefined && raw.messages !== null)
      pm.messages = parseArray(raw.messages, 'messages', parseMessage);
    if (raw.presence !== undefined && raw.presence !== null)
      pm.presence = parseArray(raw.presence, 'presence', parsePresenceMessage);
    if (raw.annotations !== undefined && raw.annotations !== null)
      pm.annotations = parseArray(raw.annotations, 'annotations', parseAnnotation);
  } catch (err) {
    if (err instanceof AblyError) throw new PayloadError(err, err.message, pm);
    throw err;
  }
  return pm;
}
