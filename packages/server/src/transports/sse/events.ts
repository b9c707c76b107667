/**
 * The events of Ably's SSE and raw HTTP streaming API, made from the ProtocolMessages the session
 * writes: one `message` event per Message, one `presence` event per PresenceMessage, `error` for an
 * ErrorInfo. SSE style: `id:`/`event:`/`data:` fields; JSON style: one `{id, event, data}` object
 * per line. Enveloped, `data` is the Message (with its `channel`); bare, it is the payload only.
 *
 * The items of a frame are taken apart once (`OutboundFrame.memo`) and shared by every stream.
 */
import {
  Action,
  MessageAction,
  encodeJson,
  isArrayValue,
  isMutationAction,
  isPlainObject,
  type ErrorInfo,
  parseJson,
} from '@encke/protocol';
import type { OutboundFrame } from '../../wire/frame.js';

export type StreamStyle = 'sse' | 'json';

/** The items of one MESSAGE or PRESENCE frame, ready to be written. */
export interface FrameItems {
  readonly event: 'message' | 'presence';
  /** Each item's message serial (presence items have none). */
  readonly serials: readonly (string | undefined)[];
  /** Each item as JSON, with `channel`. */
  readonly enveloped: readonly string[];
  /** Each item's payload as text (strings as they are; anything else as its JSON). */
  readonly bare: readonly string[];
}

/** A Message or PresenceMessage in wire form: its fields are read as unknown and checked where used. */
interface WireItem {
  readonly [field: string]: unknown;
}

/** An item of a frame's JSON: an object (its fields are checked where they are read). */
function isWireItem(value: unknown): value is WireItem {
  return typeof value === 'object' && value !== null;
}

/**
 * The `messages` or `presence` of a frame's JSON (the frame's own encoding, parsed once per frame):
 * only what is read is checked, the array and that its items are objects. Any other shape would be
 * an encoder bug: the frame is written as no items rather than throwing into the fan-out.
 */
function wireItems(json: string, field: 'messages' | 'presence'): readonly WireItem[] {
  const wire = parseJson(json);
  const items = isPlainObject(wire) ? wire[field] : undefined;
  return isArrayValue(items) && items.every(isWireItem) ? items : [];
}

/**
 * The stream position an item marks: a new message's serial; an update's, delete's or append's
 * version serial (its own place in the log; `serial` names the message it changed); none for a
 * summary (the frame's channelSerial marks it), nor for presence.
 */
function positionOf(m: WireItem): string | undefined {
  const action = typeof m.action === 'number' ? m.action : undefined;
  if (isMutationAction(action)) {
    const version = m.version;
    return isPlainObject(version) && typeof version.serial === 'string' ? version.serial : undefined;
  }
  if (action === MessageAction.SUMMARY) return undefined;
  return typeof m.serial === 'string' ? m.serial : undefined;
}

const ITEMS_MEMO = {};

/** The items of a MESSAGE or PRESENCE frame, in wire form (binary as base64 with its encoding). */
export function frameItems(frame: OutboundFrame): FrameItems {
  return frame.memo(ITEMS_MEMO, (f) => {
    const isMessage = f.pm.action === Action.MESSAGE;
    // The full messages (encodeJson of the frame's own ProtocolMessage), not the frame's realtime JSON: an
    // event is a message alone, with no ProtocolMessage to derive its id, connectionId and timestamp from.
    const items = wireItems(encodeJson(f.pm), isMessage ? 'messages' : 'presence');
    const channel = f.pm.channel;
    return {
      event: isMessage ? 'message' : 'presence',
      serials: items.map(positionOf),
      enveloped: items.map((m) => JSON.stringify({ ...m, channel })),
      bare: items.map((m) =>
        typeof m.data === 'string' ? m.data : m.data === undefined ? '' : JSON.stringify(m.data),
      ),
    };
  });
}

/** One SSE field per line: a payload with line breaks becomes several `data:` lines. */
function sseData(text: string): string {
  if (!/[\r\n]/.test(text)) return `data: ${text}\n`;
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}\n`)
    .join('');
}

/** Item `i` of `items` as one event; `id` is the stream position after it (none: keep the last). */
export function itemEvent(
  style: StreamStyle,
  items: FrameItems,
  i: number,
  enveloped: boolean,
  id: string | undefined,
): string {
  if (style === 'sse') {
    return `${id === undefined ? '' : `id: ${id}\n`}event: ${items.event}\n${sseData(enveloped ? items.enveloped[i]! : items.bare[i]!)}\n`;
  }
  const data = enveloped ? items.enveloped[i]! : JSON.stringify(items.bare[i]!);
  return `{${id === undefined ? '' : `"id":${JSON.stringify(id)},`}"event":"${items.event}","data":${data}}\n`;
}

export function errorEvent(style: StreamStyle, error: ErrorInfo): string {
  const data = JSON.stringify(error);
  return style === 'sse' ? `event: error\ndata: ${data}\n\n` : `{"event":"error","data":${data}}\n`;
}

/** The keepalive: an SSE comment or an empty line; with `heartbeats=true`, a `heartbeat` event. */
export function keepalive(style: StreamStyle, heartbeats: boolean): string {
  if (style === 'sse') return heartbeats ? 'event: heartbeat\n\n' : ':keepalive\n\n';
  return heartbeats ? '{"event":"heartbeat"}\n' : '\n';
}

/**
 * An SSE `id` with no data: the browser records it as its last event id without dispatching
 * anything, so a stream cut before its first message still resumes from where it started.
 */
export function positionMark(style: StreamStyle, id: string): string {
  return style === 'sse' ? `id: ${id}\n\n` : '';
}
