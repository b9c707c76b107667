/**
 * CONNECTED as a template. Every connection's CONNECTED is the same message but for its id, its key
 * and its clientId: the node's limits and serverId never change. Encoding the whole message for
 * every open (JSON.stringify, or the msgpack encoder walking two objects) is most of what an open
 * spends on it, so the constant part is encoded once per node, from `connectedMessage` itself, and
 * an open only encodes its three strings. The bytes are the encoder's bytes exactly
 * (test/src/unit/connected-frame.test.ts checks that over random ids, keys, clientIds and limits).
 * CONNECTED with an error (a failed resume) is rare and goes through the encoder.
 */
import { encodeMsgpackValue, type ErrorInfo, type Format, type ProtocolMessage } from '@encke/protocol';
import type { ResolvedOptions } from '../options.js';
import { OutboundFrame } from '../wire/frame.js';
import { connectedMessage } from './connection-key.js';

/** msgpack fixmap: up to 15 entries, the count in the low nibble of a one-byte header. */
const FIXMAP = 0x80;
const FIXMAP_MAX = 15;
/** msgpack str headers (the encoder's choice: the shortest that fits). */
const FIXSTR = 0xa0;
const FIXSTR_MAX = 31;
const STR8 = 0xd9;
const STR16 = 0xda;
const STR32 = 0xdb;
const UINT8_MAX = 0xff;
const UINT16_MAX = 0xffff;

/** The msgpack str header for a string of `length` UTF-8 bytes, as latin1 text (one char a byte). */
function strHead(length: number): string {
  if (length <= FIXSTR_MAX) return String.fromCharCode(FIXSTR | length);
  if (length <= UINT8_MAX) return String.fromCharCode(STR8, length);
  if (length <= UINT16_MAX) return String.fromCharCode(STR16, length >>> 8, length & UINT8_MAX);
  return String.fromCharCode(
    STR32,
    length >>> 24,
    (length >>> 16) & UINT8_MAX,
    (length >>> 8) & UINT8_MAX,
    length & UINT8_MAX,
  );
}

/** `s` as a msgpack str in latin1 text: ids and keys are ASCII, so one char is one byte already. */
function asciiStr(s: string): string {
  return strHead(s.length) + s;
}

/** Any string as a msgpack str in latin1 text (its UTF-8 bytes, one char each). */
function utf8Str(s: string): string {
  const bytes = Buffer.from(s, 'utf8');
  return strHead(bytes.length) + bytes.toString('latin1');
}

/** ids and keys are made of these (connection-key.ts); anything else takes the UTF-8 path. */
const ASCII = /^[\x20-\x7e]*$/;

/** The constant pieces of a node's CONNECTED in both formats. */
interface Pieces {
  /** `{"action":4,"connectionId":` … `,"connectionDetails":{"connectionKey":` … limits and serverId. */
  jsonHead: string;
  jsonDetailsHead: string;
  jsonDetailsTail: string;
  /**
   * The same in msgpack, as latin1 text (one char a byte: the message is assembled as a string and
   * turned into bytes in one call); the details' map header depends on whether there is a clientId.
   */
  msgpackHead: string;
  msgpackDetailsKey: string;
  msgpackDetails: number;
  msgpackKeyKey: string;
  msgpackDetailsTail: string;
  msgpackClientIdKey: string;
  jsonClientIdKey: string;
}

const pack = (value: unknown): Uint8Array => encodeMsgpackValue(value);
const latin1 = (...parts: ArrayLike<number>[]): string =>
  Buffer.concat(parts.map((p) => Uint8Array.from(p))).toString('latin1');

/** Splits an encoding of the node's CONNECTED (empty id and key) into the pieces around the strings. */
function piecesOf(o: ResolvedOptions): Pieces | undefined {
  const pm = connectedMessage(o, '', '', undefined);
  const details = pm.connectionDetails!;
  // The message must be exactly {action, connectionId, connectionDetails: {connectionKey, …}} in that order.
  const keys = Object.keys(pm);
  if (keys.join() !== 'action,connectionId,connectionDetails' || Object.keys(details)[0] !== 'connectionKey')
    return undefined;
  const json = JSON.stringify(details);
  const jsonKeyHead = '{"connectionKey":""';
  const detailsBytes = pack(details);
  const keyKey = pack('connectionKey');
  const count = Object.keys(details).length;
  // One more entry (clientId) must still fit a fixmap; anything else goes through the encoder.
  if (count + 1 > FIXMAP_MAX || detailsBytes[0] !== (FIXMAP | count)) return undefined;
  const tailStart = 1 + keyKey.length + 1; // header, "connectionKey", "" (0xa0)
  return {
    jsonHead: `{"action":${pm.action},"connectionId":`,
    jsonDetailsHead: `,"connectionDetails":{"connectionKey":`,
    jsonDetailsTail: json.slice(jsonKeyHead.length, -1),
    jsonClientIdKey: ',"clientId":',
    msgpackHead: latin1([FIXMAP | keys.length], pack('action'), pack(pm.action), pack('connectionId')),
    msgpackDetailsKey: latin1(pack('connectionDetails')),
    msgpackDetails: count,
    msgpackKeyKey: latin1(keyKey),
    msgpackDetailsTail: latin1(detailsBytes.subarray(tailStart)),
    msgpackClientIdKey: latin1(pack('clientId')),
  };
}

/** Template pieces per node options (made on a node's first CONNECTED). */
const templates = new WeakMap<ResolvedOptions, Pieces | null>();

function piecesFor(o: ResolvedOptions): Pieces | null {
  let pieces = templates.get(o);
  if (pieces === undefined) templates.set(o, (pieces = piecesOf(o) ?? null));
  return pieces;
}

/** CONNECTED encoded from the template; the encoder's exact bytes (see the module comment). */
function encodeConnected(
  p: Pieces,
  format: Format,
  connectionId: string,
  connectionKey: string,
  clientId: string | undefined,
): string | Uint8Array {
  if (format === 'json') {
    const client = clientId === undefined ? '' : p.jsonClientIdKey + JSON.stringify(clientId);
    return `${p.jsonHead}${JSON.stringify(connectionId)}${p.jsonDetailsHead}${JSON.stringify(connectionKey)}${p.jsonDetailsTail}${client}}}`;
  }
  const str = (v: string): string => (ASCII.test(v) ? asciiStr(v) : utf8Str(v));
  const entries = p.msgpackDetails + (clientId === undefined ? 0 : 1);
  // The encoder's layout, assembled as text and made bytes in one call (no walk over two objects).
  let text = p.msgpackHead + str(connectionId) + p.msgpackDetailsKey + String.fromCharCode(FIXMAP | entries);
  text += p.msgpackKeyKey + str(connectionKey) + p.msgpackDetailsTail;
  if (clientId !== undefined) text += p.msgpackClientIdKey + str(clientId);
  return Buffer.from(text, 'latin1');
}

/**
 * The CONNECTED frame for a connection, already encoded in `format` (the transport's) when there
 * is no error; `pm` is the message itself (what every other reader of the frame looks at).
 */
export function connectedFrame(
  o: ResolvedOptions,
  format: Format,
  connectionId: string,
  connectionKey: string,
  clientId: string | undefined,
  error?: ErrorInfo,
): OutboundFrame {
  const pm: ProtocolMessage = connectedMessage(o, connectionId, connectionKey, clientId, error);
  const pieces = error ? null : piecesFor(o);
  if (!pieces) return new OutboundFrame(pm);
  return OutboundFrame.encoded(pm, encodeConnected(pieces, format, connectionId, connectionKey, clientId));
}

/** Whether this node's CONNECTED has a template (it has with every option a node accepts; the fallback is the encoder). */
export function hasConnectedTemplate(o: ResolvedOptions): boolean {
  return piecesFor(o) !== null;
}
