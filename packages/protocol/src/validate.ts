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

/** Whether `v` is what optInt accepts with its default minimum (0): checked inline on the hot fields. */
function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
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

/**
 * Copies the shared fields of `raw` that are present, validated, onto `target`. Each field is read
 * once by name and its usual type checked here; anything else goes to the `opt…` helper, which
 * answers null as absent and throws for a wrong type, with the same error as always. (The helpers'
 * keyed reads and calls for every field were most of a publish's validation in V8's baseline tier,
 * where code running 20 times a second stays: bench/README, `pubpath2`.)
 */
function parseCommonFields<T extends CommonFields>(raw: Obj, where: string, target: T): T {
  const id = raw.id;
  if (typeof id === 'string') target.id = id;
  else if (id !== undefined) optString(raw, 'id', where, Err.invalidMessageId);
  const clientId = raw.clientId;
  if (typeof clientId === 'string') target.clientId = clientId;
  else if (clientId !== undefined) optString(raw, 'clientId', where, Err.invalidClientId);
  const connectionId = raw.connectionId;
  if (typeof connectionId === 'string') target.connectionId = connectionId;
  else if (connectionId !== undefined) optString(raw, 'connectionId', where);
  const data = raw.data;
  if (typeof data === 'string') target.data = data;
  else if (data !== undefined) {
    const bytes = optData(raw, where);
    if (bytes !== undefined) target.data = bytes;
  }
  const encoding = raw.encoding;
  if (typeof encoding === 'string') target.encoding = encoding;
  else if (encoding !== undefined) optString(raw, 'encoding', where, Err.invalidDataOrEncoding);
  if (raw.extras !== undefined) {
    const extras = optObject(raw, 'extras', where);
    if (extras !== undefined) {
      checkExtras(extras, where);
      target.extras = extras;
    }
  }
  const timestamp = raw.timestamp;
  if (typeof timestamp === 'number' && Number.isFinite(timestamp)) target.timestamp = timestamp;
  else if (timestamp !== undefined) optNumber(raw, 'timestamp', where);
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

/** Validates one message of a publish (realtime MESSAGE or REST body); fields read as in parseCommonFields. */
export function parseMessage(raw: unknown, where = 'message'): Message {
  if (!isPlainObject(raw)) fail(Err.badRequest, `${where} must be an object`);
  const msg = parseCommonFields<Message>(raw, where, {});
  const connectionKey = raw.connectionKey;
  if (typeof connectionKey === 'string') msg.connectionKey = connectionKey;
  else if (connectionKey !== undefined) optString(raw, 'connectionKey', where);
  const name = raw.name;
  if (typeof name === 'string') msg.name = name;
  else if (name !== undefined) optString(raw, 'name', where);
  if (raw.action !== undefined) {
    const action = optInt(raw, 'action', where);
    if (action !== undefined) msg.action = action;
  }
  // An update, delete or append names its message by serial and describes itself in `version`.
  if (raw.serial !== undefined) {
    const serial = optString(raw, 'serial', where, Err.invalidParameterValue);
    if (serial !== undefined) msg.serial = serial;
  }
  if (raw.version !== undefined) {
    const version = optObject(raw, 'version', where);
    if (version !== undefined) msg.version = parseOperation(version, `${where}.version`);
  }
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
  // Filled by push, not made at its length: a pre-sized array has holes to V8, and JSON.stringify
  // then reads each element through the generic lookup (bench/README, `pubpath2`).
  const out: T[] = [];
  for (let i = 0; i < raw.length; i++) out.push(parse(raw[i], itemName(key, i)));
  return out;
}

/**
 * Validates a decoded client frame into a ProtocolMessage. Throws {@link AblyError} when the
 * envelope is unusable and {@link PayloadError} when only `messages`/`presence` are.
 */
export function parseProtocolMessage(raw: unknown): ProtocolMessage {
  if (!isPlainObject(raw)) fail(Err.badRequest, 'ProtocolMessage must be an object');
  const where = 'ProtocolMessage';
  // Fields read once by name and checked here, the rest through the `opt…` helpers (see parseCommonFields).
  const rawAction = raw.action;
  const action = isUint(rawAction) ? rawAction : optInt(raw, 'action', where);
  if (action === undefined) fail(Err.badRequest, 'ProtocolMessage.action is required');
  const pm: ProtocolMessage = { action };
  const id = raw.id;
  if (typeof id === 'string') pm.id = id;
  else if (id !== undefined) optString(raw, 'id', where);
  const channel = raw.channel;
  if (typeof channel === 'string') pm.channel = channel;
  else if (channel !== undefined) optString(raw, 'channel', where, Err.invalidChannelName);
  const channelSerial = raw.channelSerial;
  if (typeof channelSerial === 'string') pm.channelSerial = channelSerial;
  else if (channelSerial !== undefined) optString(raw, 'channelSerial', where);
  const msgSerial = raw.msgSerial;
  if (isUint(msgSerial)) pm.msgSerial = msgSerial;
  else if (msgSerial !== undefined) optInt(raw, 'msgSerial', where);
  const flags = raw.flags;
  if (isUint(flags)) pm.flags = flags;
  else if (flags !== undefined) optInt(raw, 'flags', where);
  if (raw.params !== undefined) {
    const params = parseParams(raw);
    if (params !== undefined) pm.params = params;
  }
  if (raw.auth !== undefined) {
    const auth = optObject(raw, 'auth', where);
    if (auth !== undefined) {
      const accessToken = optString(auth, 'accessToken', `${where}.auth`);
      if (accessToken === undefined) fail(Err.badRequest, 'ProtocolMessage.auth.accessToken is required');
      pm.auth = { accessToken };
    }
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
