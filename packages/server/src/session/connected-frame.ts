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

/** Bytes of a msgpack str header for a string of `length` UTF-8 bytes (the encoder's choice: the shortest). */
function strHeadLength(length: number): number {
  return length <= FIXSTR_MAX ? 1 : length <= UINT8_MAX ? 2 : length <= UINT16_MAX ? 3 : 5;
}

/** Writes `s` (`length` UTF-8 bytes) as a msgpack str at `at`; returns where it ends. */
function writeStr(out: Buffer, at: number, s: string, length: number): number {
  const head = strHeadLength(length);
  if (head === 1) out[at] = FIXSTR | length;
  else if (head === 2) {
    out[at] = STR8;
    out[at + 1] = length;
  } else if (head === 3) {
    out[at] = STR16;
    out.writeUInt16BE(length, at + 1);
  } else {
    out[at] = STR32;
    out.writeUInt32BE(length, at + 1);
  }
  return at + head + out.write(s, at + head, 'utf8');
}

/** The constant pieces of a node's CONNECTED in both formats. */
interface Pieces {
  /** `{"action":4,"connectionId":` … `,"connectionDetails":{"connectionKey":` … limits and serverId. */
  jsonHead: string;
  jsonDetailsHead: string;
  jsonDetailsTail: string;
  /** The same in msgpack; the two map headers depend on whether there is a clientId. */
  msgpackHead: Buffer;
  msgpackDetailsKey: Buffer;
  msgpackDetails: number;
  msgpackKeyKey: Buffer;
  msgpackDetailsTail: Buffer;
  msgpackClientIdKey: Buffer;
  jsonClientIdKey: string;
}

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
  const detailsBytes = Buffer.from(encodeMsgpackValue(details));
  const keyKey = Buffer.from(encodeMsgpackValue('connectionKey'));
  const count = Object.keys(details).length;
  // One more entry (clientId) must still fit a fixmap; anything else goes through the encoder.
  if (count + 1 > FIXMAP_MAX || detailsBytes[0] !== (FIXMAP | count)) return undefined;
  const tailStart = 1 + keyKey.length + 1; // header, "connectionKey", "" (0xa0)
  return {
    jsonHead: `{"action":${pm.action},"connectionId":`,
    jsonDetailsHead: `,"connectionDetails":{"connectionKey":`,
    jsonDetailsTail: json.slice(jsonKeyHead.length, -1),
    jsonClientIdKey: ',"clientId":',
    msgpackHead: Buffer.concat([
      Buffer.from([FIXMAP | keys.length]),
      Buffer.from(encodeMsgpackValue('action')),
      Buffer.from(encodeMsgpackValue(pm.action)),
      Buffer.from(encodeMsgpackValue('connectionId')),
    ]),
    msgpackDetailsKey: Buffer.from(encodeMsgpackValue('connectionDetails')),
    msgpackDetails: count,
    msgpackKeyKey: keyKey,
    msgpackDetailsTail: detailsBytes.subarray(tailStart),
    msgpackClientIdKey: Buffer.from(encodeMsgpackValue('clientId')),
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
  const idLength = Buffer.byteLength(connectionId);
  const keyLength = Buffer.byteLength(connectionKey);
  const clientLength = clientId === undefined ? 0 : Buffer.byteLength(clientId);
  let size = p.msgpackHead.length + strHeadLength(idLength) + idLength + p.msgpackDetailsKey.length + 1;
  size += p.msgpackKeyKey.length + strHeadLength(keyLength) + keyLength + p.msgpackDetailsTail.length;
  if (clientId !== undefined) size += p.msgpackClientIdKey.length + strHeadLength(clientLength) + clientLength;
  // One buffer, written in order: the encoder's layout, without its walk over two objects.
  const out = Buffer.allocUnsafe(size);
  let at = p.msgpackHead.copy(out, 0);
  at = writeStr(out, at, connectionId, idLength);
  at += p.msgpackDetailsKey.copy(out, at);
  out[at++] = FIXMAP | (p.msgpackDetails + (clientId === undefined ? 0 : 1));
  at += p.msgpackKeyKey.copy(out, at);
  at = writeStr(out, at, connectionKey, keyLength);
  at += p.msgpackDetailsTail.copy(out, at);
  if (clientId !== undefined) {
    at += p.msgpackClientIdKey.copy(out, at);
    writeStr(out, at, clientId, clientLength);
  }
  return out;
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
