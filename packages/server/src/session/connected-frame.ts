/**
 * CONNECTED as a template. Every connection's CONNECTED is the same message but for its id, its key
 * and its clientId: the node's limits and serverId never change. Encoding the whole message for
 * every open (JSON.stringify, or the msgpack encoder walking two objects) is most of what an open
 * spends on it, so the constant part is encoded once per node, from `connectedMessage` itself, and
 * an open only encodes its three strings. The bytes are the encoder's bytes exactly
 * (test/src/unit/control-frames.test.ts checks that over random ids, keys, clientIds and limits).
 * CONNECTED with an error (a failed resume) is rare and goes through the encoder.
 */
import { encodeMsgpackValue, isAscii, type ErrorInfo, type Format, type ProtocolMessage } from '@encke/protocol';
import { FIXMAP, FIXMAP_MAX, packedText, strText } from '../wire/msgpack-text.js';
import type { ResolvedOptions } from '../options.js';
import { OutboundFrame } from '../wire/frame.js';
import { connectedMessage } from './connection-key.js';

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
  /** The JSON pieces are ASCII (the limits are numbers; the serverId is an option). */
  jsonAscii: boolean;
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
  const detailsBytes = encodeMsgpackValue(details);
  const keyKey = packedText('connectionKey');
  const count = Object.keys(details).length;
  // One more entry (clientId) must still fit a fixmap; anything else goes through the encoder.
  if (count + 1 > FIXMAP_MAX || detailsBytes[0] !== (FIXMAP | count)) return undefined;
  const tailStart = 1 + keyKey.length + 1; // header, "connectionKey", "" (0xa0)
  const jsonDetailsTail = json.slice(jsonKeyHead.length, -1);
  return {
    jsonHead: `{"action":${pm.action},"connectionId":`,
    jsonDetailsHead: `,"connectionDetails":{"connectionKey":`,
    jsonDetailsTail,
    jsonClientIdKey: ',"clientId":',
    jsonAscii: isAscii(jsonDetailsTail),
    msgpackHead: String.fromCharCode(FIXMAP | keys.length) + packedText('action', pm.action, 'connectionId'),
    msgpackDetailsKey: packedText('connectionDetails'),
    msgpackDetails: count,
    msgpackKeyKey: keyKey,
    msgpackDetailsTail: Buffer.from(detailsBytes.subarray(tailStart)).toString('latin1'),
    msgpackClientIdKey: packedText('clientId'),
  };
}

/** Template pieces per node options (made on a node's first CONNECTED). */
const templates = new WeakMap<ResolvedOptions, Pieces | null>();

function piecesFor(o: ResolvedOptions): Pieces | null {
  let pieces = templates.get(o);
  if (pieces === undefined) templates.set(o, (pieces = piecesOf(o) ?? null));
  return pieces;
}

/** CONNECTED encoded from the template: the encoder's exact JSON, or its msgpack bytes as latin1 text (see the module comment). */
function encodeConnected(
  p: Pieces,
  format: Format,
  connectionId: string,
  connectionKey: string,
  clientId: string | undefined,
): string {
  if (format === 'json') {
    const client = clientId === undefined ? '' : p.jsonClientIdKey + JSON.stringify(clientId);
    return `${p.jsonHead}${JSON.stringify(connectionId)}${p.jsonDetailsHead}${JSON.stringify(connectionKey)}${p.jsonDetailsTail}${client}}}`;
  }
  const entries = p.msgpackDetails + (clientId === undefined ? 0 : 1);
  // The encoder's layout, assembled as text (no walk over two objects; the transport writes it as text).
  let text = p.msgpackHead + strText(connectionId) + p.msgpackDetailsKey + String.fromCharCode(FIXMAP | entries);
  text += p.msgpackKeyKey + strText(connectionKey) + p.msgpackDetailsTail;
  if (clientId !== undefined) text += p.msgpackClientIdKey + strText(clientId);
  return text;
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
  const text = encodeConnected(pieces, format, connectionId, connectionKey, clientId);
  const ascii =
    pieces.jsonAscii &&
    isAscii(connectionId) &&
    isAscii(connectionKey) &&
    (clientId === undefined || isAscii(clientId));
  return OutboundFrame.templated(pm, format, text, ascii);
}

/** Whether this node's CONNECTED has a template (it has with every option a node accepts; the fallback is the encoder). */
export function hasConnectedTemplate(o: ResolvedOptions): boolean {
  return piecesFor(o) !== null;
}
