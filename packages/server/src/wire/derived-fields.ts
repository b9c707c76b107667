/**
 * A MESSAGE frame without what its reader derives. Every Ably client fills a message's missing `id`
 * (`<ProtocolMessage id>:<index>`), `connectionId` and `timestamp` from the ProtocolMessage that
 * carries it (TM2a/TM2c/TM2f: ably-js 2.x `populateFieldsFromParent`, 1.x `RealtimeChannel.onMessage`,
 * our client's `Channel.messages`), so a realtime frame leaves out each of those fields that equals
 * what the client derives: a one-message publish's frame (bench S7) is 80 bytes (a quarter) shorter in
 * JSON and 65 in msgpack on every delivery. The encoders' work saved once per publish (~2k instructions:
 * fewer keys, no timestamp to print) about pays for the shorter copies. Fields that differ stay (a
 * message with its own id, a batch of several publishes: no ProtocolMessage id or connectionId, each
 * message's own timestamp).
 *
 * Only the frame's encoders see the result (wire/frame.ts): the messages (the channel's log, shared) are
 * never changed, and in-process readers (stats, deltas) see the full messages. Readers of a message alone
 * are never sent a frame: REST history reads the log; the SSE API encodes the frame's ProtocolMessage
 * itself (transports/sse/events.ts).
 */
import { Action, type Message, type ProtocolMessage } from '@encke/protocol';

/**
 * `pm` encoded by `encode` as a MESSAGE frame goes out: its messages without each field equal to what a
 * client derives (the rest in their order). Any other frame, or one with nothing to leave out, is
 * encoded as it is.
 *
 * The frame's message list is swapped for the shorter copies for the one synchronous call and put back
 * (bench: a copy of the whole ProtocolMessage made the JSON encode cost more than it saved).
 */
export function encodeWithoutDerivedFields<T>(pm: ProtocolMessage, encode: (pm: ProtocolMessage) => T): T {
  const full = pm.messages;
  const slim = pm.action === Action.MESSAGE && full !== undefined ? withoutDerivedFields(pm, full) : undefined;
  if (slim === undefined) return encode(pm);
  pm.messages = slim;
  try {
    return encode(pm);
  } finally {
    pm.messages = full;
  }
}

/**
 * Copies of `messages` (those of `pm`) without the fields a client derives from `pm` (undefined when
 * every message must go as it is). The messages themselves are never changed: they are the channel's log.
 */
export function withoutDerivedFields(pm: ProtocolMessage, messages: readonly Message[]): Message[] | undefined {
  let slim: Message[] | undefined;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const dropId = pm.id !== undefined && m.id !== undefined && isItemId(m.id, pm.id, i);
    const dropConnection = pm.connectionId !== undefined && m.connectionId === pm.connectionId;
    const dropTimestamp = pm.timestamp !== undefined && m.timestamp === pm.timestamp;
    if (!dropId && !dropConnection && !dropTimestamp) continue;
    slim ??= messages.slice();
    slim[i] = copyWithout(m, dropId, dropConnection, dropTimestamp);
  }
  return slim;
}

/**
 * `m` without the fields named. A fresh object, key by key (not a spread with the fields set to
 * undefined: writing undefined where the log's messages hold a number changes the shape V8 shares with
 * them, and the encoders still walk the key).
 */
function copyWithout(m: Message, id: boolean, connectionId: boolean, timestamp: boolean): Message {
  const copy: Record<string, unknown> = {};
  for (const key in m) {
    if ((id && key === 'id') || (connectionId && key === 'connectionId') || (timestamp && key === 'timestamp'))
      continue;
    copy[key] = m[key as keyof Message]; // `key` is one of m's own keys (for-in)
  }
  return copy;
}

const COLON = 0x3a;
const ZERO = 0x30;
const NINE = 0x39;

/** Whether `id` is `<parent>:<index>` (index in decimal, no leading zero), compared without making that string. */
export function isItemId(id: string, parent: string, index: number): boolean {
  const n = parent.length;
  if (id.length < n + 2 || id.charCodeAt(n) !== COLON || !id.startsWith(parent)) return false;
  if (id.charCodeAt(n + 1) === ZERO && id.length > n + 2) return false;
  let value = 0;
  for (let k = n + 1; k < id.length; k++) {
    const c = id.charCodeAt(k);
    if (c < ZERO || c > NINE) return false;
    value = value * 10 + (c - ZERO);
  }
  return value === index;
}
