/**
 * ACK as a template. Every publish is answered by an ACK `{action, msgSerial, count, res}` (the
 * ledger makes exactly those four keys, ack-ledger.ts), and walking that object with the encoder
 * (JSON.stringify, or the msgpack encoder's generic map and string code) cost about as much as
 * encoding the message itself. The constant pieces are written once here; an ACK only writes its
 * numbers and serials. The bytes are the encoders' bytes exactly (test/src/unit/ack-frame.test.ts
 * checks that over random msgSerials, counts and serials). The ACK is encoded when the transport
 * writes it, not when it is queued: consecutive ACKs of a tick join it until then. NACKs are rare
 * and go through the encoder.
 */
import { Action, encodeJson, encodeMsgpack, type ProtocolMessage } from '@encke/protocol';
import { OutboundFrame, type FrameEncoding } from '../wire/frame.js';
import { FIXMAP, NIL_TEXT, arrayHead, packedText, strText, textBytes, uintText } from '../wire/msgpack-text.js';

const JSON_HEAD = `{"action":${Action.ACK},"msgSerial":`;
const JSON_COUNT = ',"count":';
const JSON_RES = ',"res":[';
const JSON_SERIALS = '{"serials":';
/** The four entries, in the order the ledger's object has them; each result is a map of one. */
const MSGPACK_HEAD = String.fromCharCode(FIXMAP | 4) + packedText('action', Action.ACK, 'msgSerial');
const MSGPACK_COUNT = packedText('count');
const MSGPACK_RES = packedText('res');
const MSGPACK_SERIALS = String.fromCharCode(FIXMAP | 1) + packedText('serials');

type Results = readonly { serials: readonly (string | null)[] }[];

/**
 * The results, when the template writes `pm` as the encoders do: its numbers are integers
 * 0..2^32-1 (written alike by both) and every result has its serials (the ledger's only key), each
 * a string or null.
 */
function templated(pm: ProtocolMessage): Results | undefined {
  const { msgSerial, count, res } = pm;
  if (msgSerial === undefined || count === undefined || !Array.isArray(res)) return undefined;
  if (uintText(msgSerial) === undefined || uintText(count) === undefined) return undefined;
  // Index loops: this runs once per ACK, mostly before the JIT would remove an iterator's garbage.
  for (let i = 0; i < res.length; i++) {
    const serials = res[i]!.serials;
    if (!Array.isArray(serials)) return undefined;
    for (let j = 0; j < serials.length; j++) {
      const s: unknown = serials[j];
      if (typeof s !== 'string' && s !== null) return undefined;
    }
  }
  return res as Results; // checked above: every result's serials are strings or null
}

function ackJson(pm: ProtocolMessage): string {
  const results = templated(pm);
  if (!results) return encodeJson(pm);
  let text = `${JSON_HEAD}${pm.msgSerial}${JSON_COUNT}${pm.count}${JSON_RES}`;
  for (let i = 0; i < results.length; i++) {
    if (i > 0) text += ',';
    text += `${JSON_SERIALS}${JSON.stringify(results[i]!.serials)}}`;
  }
  return `${text}]}`;
}

function ackMsgpack(pm: ProtocolMessage): Uint8Array {
  const results = templated(pm);
  if (!results) return encodeMsgpack(pm);
  let text = MSGPACK_HEAD + uintText(pm.msgSerial!)! + MSGPACK_COUNT + uintText(pm.count!)! + MSGPACK_RES;
  text += arrayHead(results.length);
  // Index loops, as in `templated`.
  for (let i = 0; i < results.length; i++) {
    const serials = results[i]!.serials;
    text += MSGPACK_SERIALS + arrayHead(serials.length);
    // null (a presence or change ACK) is nil, as the encoder writes it.
    for (let j = 0; j < serials.length; j++) {
      const s = serials[j];
      text += typeof s === 'string' ? strText(s) : NIL_TEXT;
    }
  }
  return textBytes(text);
}

const ACK_ENCODING: FrameEncoding = { json: ackJson, msgpack: ackMsgpack };

/** The frame of a ledger's reply: an ACK from the template, a NACK through the encoder. */
export function replyFrame(pm: ProtocolMessage): OutboundFrame {
  return pm.action === Action.ACK ? new OutboundFrame(pm, ACK_ENCODING) : new OutboundFrame(pm);
}
