/**
 * How channel events and presence members are stored in Redis: msgpack, with the parts Redis knows
 * (seq, timestamp, epoch) left out of the body and restored when reading. Binary payloads stay
 * binary (msgpack bin).
 */
import { decodeMsgpack, encodeMsgpackValue, type Message, type PresenceMessage } from '@encke/protocol';
import { formatSerial, messageSerial } from '../serial.js';
import type { ChannelEvent, ChannelEventInput } from '../channel-store.js';

interface Body {
  k: 0 | 1;
  i?: string;
  c?: string;
  m?: Message[];
  p?: PresenceMessage[];
}

export function encodeEventBody(input: ChannelEventInput): Buffer {
  const body: Body = { k: input.kind === 'message' ? 0 : 1 };
  if (input.id !== undefined) body.i = input.id;
  if (input.connectionId !== undefined) body.c = input.connectionId;
  if (input.messages) body.m = input.messages.map(({ serial: _serial, ...m }) => m);
  if (input.presence) body.p = input.presence;
  return Buffer.from(encodeMsgpackValue(body));
}

/** Decodes a log entry (`<15-digit timestamp><body>`) at `seq` of `epoch`. */
export function decodeEntry(entry: Buffer, epoch: string, seq: number): ChannelEvent {
  const timestamp = Number(entry.subarray(0, 15).toString('latin1'));
  const body = decodeMsgpack(entry.subarray(15)) as Body;
  const serial = formatSerial(epoch, seq);
  const event: ChannelEvent = { kind: body.k === 0 ? 'message' : 'presence', timestamp, seq, serial };
  if (body.i !== undefined) event.id = body.i;
  if (body.c !== undefined) event.connectionId = body.c;
  if (body.m) event.messages = body.m.map((m, i) => ({ ...m, serial: messageSerial(serial, i) }));
  if (body.p) event.presence = body.p;
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
  return decodeMsgpack(value) as PresenceMessage;
}
