/**
 * ATTACHED as a template. An attach answers `{action, channel, flags, channelSerial}` (params and
 * an error only when asked for or when continuity was lost): the same four keys every time, so the
 * transport's format is written from constant pieces around the channel name, the flags and the
 * serial instead of walking the object with the encoder. The bytes are the encoder's bytes exactly
 * (test/src/unit/control-frames.test.ts). Anything else (params, error) goes through the encoder.
 */
import { Action, isAscii, type Format, type ProtocolMessage } from '@encke/protocol';
import { OutboundFrame } from '../wire/frame.js';
import { FIXMAP, packedText, strText, uintText } from '../wire/msgpack-text.js';

const JSON_CHANNEL = `{"action":${Action.ATTACHED},"channel":`;
const JSON_FLAGS = ',"flags":';
const JSON_SERIAL = ',"channelSerial":';
/** The four entries, in the order the message object has them. */
const MSGPACK_CHANNEL = String.fromCharCode(FIXMAP | 4) + packedText('action', Action.ATTACHED, 'channel');
const MSGPACK_FLAGS = packedText('flags');
const MSGPACK_SERIAL = packedText('channelSerial');

/**
 * `pm` (an ATTACHED of exactly those four keys) in `format`: JSON text, or msgpack bytes as latin1
 * text (OutboundFrame.templated); undefined when the encoder must do it.
 */
function encodeAttached(pm: ProtocolMessage, format: Format): string | undefined {
  const { channel, flags, channelSerial } = pm;
  if (channel === undefined || flags === undefined || channelSerial === undefined) return undefined;
  if (format === 'json') {
    if (!Number.isSafeInteger(flags)) return undefined;
    return `${JSON_CHANNEL}${JSON.stringify(channel)}${JSON_FLAGS}${flags}${JSON_SERIAL}${JSON.stringify(channelSerial)}}`;
  }
  const flagsText = uintText(flags);
  if (flagsText === undefined) return undefined;
  return MSGPACK_CHANNEL + strText(channel) + MSGPACK_FLAGS + flagsText + MSGPACK_SERIAL + strText(channelSerial);
}

/**
 * The ATTACHED frame answering an attach to `channel`, encoded in `format` (the transport's, when
 * there is one) from the template.
 */
export function attachedFrame(
  format: Format | undefined,
  channel: string,
  flags: number,
  channelSerial: string,
): OutboundFrame {
  // Keys in this order: the template writes them so.
  const pm: ProtocolMessage = { action: Action.ATTACHED, channel, flags, channelSerial };
  const text = format === undefined ? undefined : encodeAttached(pm, format);
  if (text === undefined || format === undefined) return new OutboundFrame(pm);
  // The constant pieces and the flags are ASCII: so is the JSON if the name and the serial are.
  return OutboundFrame.templated(pm, format, text, isAscii(channel) && isAscii(channelSerial));
}
