/**
 * How channel events and presence members are stored in Redis: msgpack, with the parts Redis knows
 * (seq, timestamp, epoch) left out of the body and restored when reading, and so are the serials
 * they determine (message-chain.ts `stampSerials`). Binary payloads stay binary (msgpack bin).
 */
import {
  AblyError,
  Err,
  MessageAction,
  decodeMsgpack,
  encodeMsgpackValue,
  isArrayValue,
  isMutationAction,
  isPlainObject,
  type Annotation,
  type Message,
  type PresenceMessage,
} from '@encke/protocol';
import { formatSerial } from '../serial.js';
import { stampSerials } from '../message-chain.js';
import type { ChannelEvent, ChannelEventInput, EventKind } from '../channel-store.js';

interface Body {
  k: 0 | 1 | 2;
  i?: string;
  c?: string;
  m?: Message[];
  p?: PresenceMessage[];
  a?: Annotation[];
  f?: Message;
}

const KINDS: readonly EventKind[] = ['message', 'presence', 'annotation'];

const isObjects = (v: unknown): boolean => v === undefined || (isArrayValue(v) && v.every(isPlainObject));
const isText = (v: unknown): boolean => v === undefined || typeof v === 'string';

/**
 * Whether a decoded body has the shape this module writes (Redis is shared: an entry may be corrupt or
 * another writer's). Shallow: the messages in it were checked when they were published.
 */
function isBody(v: unknown): v is Body {
  if (!isPlainObject(v)) return false;
  const { k, i, c, m, p, a, f } = v;
  return (
    (k === 0 || k === 1 || k === 2) &&
    isText(i) &&
    isText(c) &&
    isObjects(m) &&
    isObjects(p) &&
    isObjects(a) &&
    (f === undefined || isPlainObject(f))
  );
}

/** Whether a decoded member has the fields presence reads by (action, and ids when given). Shallow, as {@link isBody}. */
function isMember(v: unknown): v is PresenceMessage {
  return (
    isPlainObject(v) && typeof v.action === 'number' && isText(v.id) && isText(v.clientId) && isText(v.connectionId)
  );
}

/** What a read of a corrupt entry or member throws (its content is not in the error: it may hold anything). */
function corrupt(what: string): AblyError {
  return new AblyError(Err.internal, `A ${what} read from redis is corrupt`);
}

/** `m` without the version serial its event's place in the log gives it. */
function withoutVersionSerial(m: Message): Message {
  if (m.version?.serial === undefined) return m;
  const { serial, ...version } = m.version;
  return { ...m, version };
}

/**
 * A message without what its event's place in the log gives it: a published message's serial, an
 * update's, delete's or append's version serial (a summary keeps both: it makes no version).
 */
function storedForm(m: Message): Message {
  if (m.action === undefined || m.action === MessageAction.CREATE) {
    const { serial, ...rest } = m;
    return rest;
  }
  return isMutationAction(m.action) ? withoutVersionSerial(m) : m;
}

export function encodeEventBody(input: ChannelEventInput): Buffer {
  const body: Body = { k: KINDS.indexOf(input.kind) as Body['k'] };
  if (input.id !== undefined) body.i = input.id;
  if (input.connectionId !== undefined) body.c = input.connectionId;
  if (input.messages) body.m = input.messages.map(storedForm);
  if (input.presence) body.p = input.presence;
  if (input.annotations) body.a = input.annotations.map(({ serial, ...a }) => a);
  if (input.full)
    body.f = isMutationAction(input.messages?.[0]?.action) ? withoutVersionSerial(input.full) : input.full;
  return Buffer.from(encodeMsgpackValue(body));
}

/** Decodes a log entry (`<15-digit timestamp><body>`) at `seq` of `epoch`. */
export function decodeEntry(entry: Buffer, epoch: string, seq: number): ChannelEvent {
  const timestamp = Number(entry.subarray(0, 15).toString('latin1'));
  const body = decodeMsgpack(entry.subarray(15));
  if (!Number.isSafeInteger(timestamp) || !isBody(body)) throw corrupt('channel log entry');
  const serial = formatSerial(epoch, seq);
  const event: ChannelEvent = { kind: KINDS[body.k]!, timestamp, seq, serial };
  if (body.i !== undefined) event.id = body.i;
  if (body.c !== undefined) event.connectionId = body.c;
  if (body.m) event.messages = body.m;
  if (body.p) event.presence = body.p;
  if (body.a) event.annotations = body.a;
  if (body.f) event.full = body.f;
  stampSerials(event);
  return event;
}

/** Decodes what the publish scripts send: `<epoch>|<seq>|<entry>`. */
export function decodePublished(payload: Buffer): ChannelEvent {
  const first = payload.indexOf(0x7c);
  const second = payload.indexOf(0x7c, first + 1);
  const epoch = payload.subarray(0, first).toString('latin1');
  const seq = Number(payload.subarray(first + 1, second).toString('latin1'));
  return decodeEntry(payload.subarray(second + 1), epoch, seq);
}

export function encodeMember(member: PresenceMessage): Buffer {
  return Buffer.from(encodeMsgpackValue(member));
}

export function decodeMember(value: Buffer): PresenceMessage {
  const member = decodeMsgpack(value);
  if (!isMember(member)) throw corrupt('presence member');
  return member;
}
