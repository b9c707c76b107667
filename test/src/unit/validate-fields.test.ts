/**
 * Validation reads the hot fields of a client's frame by name and checks their usual type inline
 * (packages/protocol/src/validate.ts, `pubpath2`), handing anything else to the `opt…` helpers. This
 * compares it with the rules as they were written before (one helper call per field, kept here as
 * the reference) over random frames whose fields are of every type (fast-check, fixed seed): the
 * same ProtocolMessage, or the same error (class, code and message), field order included.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  AblyError,
  Err,
  PayloadError,
  isPlainObject,
  normaliseInboundData,
  parseProtocolMessage,
  type ErrorDef,
  type Message,
  type PresenceMessage,
  type ProtocolMessage,
} from '@encke/protocol';

const SEED = 19_064;

type Obj = Record<string, unknown>;

function fail(def: ErrorDef, message: string): never {
  throw new AblyError(def, message);
}

function optString(obj: Obj, key: string, where: string, def: ErrorDef = Err.badRequest): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(def, `${where}.${key} must be a string`);
  return v;
}

function optInt(obj: Obj, key: string, where: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    fail(Err.badRequest, `${where}.${key} must be an integer >= 0`);
  return v;
}

function optNumber(obj: Obj, key: string, where: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(Err.badRequest, `${where}.${key} must be a number`);
  return v;
}

function optData(obj: Obj, where: string): string | Uint8Array | undefined {
  const v = obj.data;
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' || v instanceof Uint8Array) return v;
  return fail(
    Err.invalidDataOrEncoding,
    `${where}.data must be a string or binary (encode objects as JSON with encoding "json")`,
  );
}

/** The reference: every field through its helper, in the order validate.ts checks them. */
function common<T extends Message | PresenceMessage>(raw: Obj, where: string, target: T): T {
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
  const timestamp = optNumber(raw, 'timestamp', where);
  if (timestamp !== undefined) target.timestamp = timestamp;
  return target;
}

function message(raw: unknown, where: string): Message {
  if (!isPlainObject(raw)) fail(Err.badRequest, `${where} must be an object`);
  const msg = common<Message>(raw, where, {});
  const connectionKey = optString(raw, 'connectionKey', where);
  if (connectionKey !== undefined) msg.connectionKey = connectionKey;
  const name = optString(raw, 'name', where);
  if (name !== undefined) msg.name = name;
  const action = optInt(raw, 'action', where);
  if (action !== undefined) msg.action = action;
  const serial = optString(raw, 'serial', where, Err.invalidParameterValue);
  if (serial !== undefined) msg.serial = serial;
  return normaliseInboundData(msg);
}

function presence(raw: unknown, where: string): PresenceMessage {
  if (!isPlainObject(raw)) fail(Err.badRequest, `${where} must be an object`);
  const action = optInt(raw, 'action', where);
  if (action === undefined) fail(Err.badRequest, `${where}.action is required`);
  return normaliseInboundData(common<PresenceMessage>(raw, where, { action }));
}

function reference(raw: unknown): ProtocolMessage {
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
  try {
    if (raw.messages !== undefined && raw.messages !== null) {
      if (!Array.isArray(raw.messages)) fail(Err.badRequest, 'ProtocolMessage.messages must be an array');
      const items: unknown[] = raw.messages;
      pm.messages = items.map((m, i) => message(m, `messages[${i}]`));
    }
    if (raw.presence !== undefined && raw.presence !== null) {
      if (!Array.isArray(raw.presence)) fail(Err.badRequest, 'ProtocolMessage.presence must be an array');
      const items: unknown[] = raw.presence;
      pm.presence = items.map((p, i) => presence(p, `presence[${i}]`));
    }
  } catch (err) {
    if (err instanceof AblyError) throw new PayloadError(err, err.message, pm);
    throw err;
  }
  return pm;
}

/** What a parse came to: the message, or the error's class, code, message (and a payload error's envelope). */
function outcome(parse: (raw: unknown) => ProtocolMessage, raw: unknown): unknown {
  try {
    return { pm: parse(raw) };
  } catch (err) {
    assert.ok(err instanceof AblyError, `an AblyError, not ${String(err)}`);
    const envelope = err instanceof PayloadError ? err.envelope : undefined;
    return { error: err.constructor.name, code: err.code, message: err.message, envelope };
  }
}

/** A field's value: mostly the usual type, sometimes anything else (rarely: each bad field ends the parse). */
const anything = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.string({ maxLength: 8 }),
  fc.constantFrom(0, 1, 7, -1, 0.5, Number.NaN, Infinity, -Infinity, 2 ** 53, 1_765_000_000_000),
  fc.boolean(),
  fc.constant({}),
  fc.constant([]),
  fc.constant(new Uint8Array([1, 2])),
);
const str = fc.oneof({ weight: 12, arbitrary: fc.string({ maxLength: 12 }) }, { weight: 1, arbitrary: anything });
const uint = fc.oneof({ weight: 12, arbitrary: fc.nat({ max: 1000 }) }, { weight: 1, arbitrary: anything });
const num = fc.oneof({ weight: 12, arbitrary: fc.double() }, { weight: 1, arbitrary: anything });
const data = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('aGVsbG8=', 'not base64!'),
  fc.constant(new Uint8Array([9])),
  anything,
);
const encoding = fc.oneof(fc.constantFrom('base64', 'utf-8/base64', 'json', 'json/base64'), anything);

const item = (action: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record(
        {
          id: str,
          clientId: str,
          connectionId: str,
          connectionKey: str,
          name: str,
          data,
          encoding,
          timestamp: num,
          action,
          serial: str,
        },
        { requiredKeys: [] },
      ),
    },
    { weight: 1, arbitrary: anything },
  );
const frame = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record(
      {
        action: uint,
        id: str,
        channel: str,
        channelSerial: str,
        msgSerial: uint,
        flags: uint,
        messages: fc.oneof(fc.array(item(uint), { maxLength: 3 }), anything),
        presence: fc.oneof(fc.array(item(uint), { maxLength: 2 }), anything),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: anything },
);

describe('validation of a frame’s fields', () => {
  it('gives what one helper call per field gave: the message, or the same error', () => {
    fc.assert(
      fc.property(frame, (raw) => {
        assert.deepEqual(outcome(parseProtocolMessage, raw), outcome(reference, raw));
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('reads a typical publish, and refuses a wrong type where the helpers did', () => {
    const raw = { action: 15, channel: 'c', msgSerial: 3, messages: [{ name: 'm', data: 'd', timestamp: 5 }] };
    assert.deepEqual(parseProtocolMessage(raw), reference(raw));
    for (const bad of [
      { action: 15, messages: [{ timestamp: Number.NaN }] },
      { action: 14, presence: [{ action: 1, timestamp: Infinity }] },
    ])
      assert.deepEqual(outcome(parseProtocolMessage, bad), outcome(reference, bad));
    assert.deepEqual(outcome(parseProtocolMessage, { action: 15, channel: 1 }), {
      error: 'AblyError',
      code: Err.invalidChannelName.code,
      message: 'ProtocolMessage.channel must be a string',
      envelope: undefined,
    });
    assert.deepEqual(
      outcome(parseProtocolMessage, { action: 15, msgSerial: -1 }),
      outcome(reference, { action: 15, msgSerial: -1 }),
    );
  });
});
