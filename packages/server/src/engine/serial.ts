/**
 * Channel serials: `<epoch>-<seq>`, with seq in base 36 zero-padded to 11 digits so that serials of
 * one channel sort as strings. The epoch names one life of the channel's log: when a channel's state
 * is discarded and created again, its epoch changes, and a client's old channelSerial no longer
 * matches, so the server answers "not resumed" instead of replaying the wrong messages.
 *
 * A message's serial is its event's serial plus `:` and its index in the event (3 base-36 digits).
 */
const SEQ_DIGITS = 11;
const SERIAL_RE = /^([A-Za-z0-9]{1,32})-([0-9a-z]{11})$/;

export interface ParsedSerial {
  epoch: string;
  seq: number;
}

export function formatSerial(epoch: string, seq: number): string {
  return `${epoch}-${seq.toString(36).padStart(SEQ_DIGITS, '0')}`;
}

export function parseSerial(serial: string): ParsedSerial | undefined {
  const m = SERIAL_RE.exec(serial);
  if (!m) return undefined;
  const seq = parseInt(m[2]!, 36);
  return Number.isSafeInteger(seq) ? { epoch: m[1]!, seq } : undefined;
}

export function messageSerial(eventSerial: string, index: number): string {
  return `${eventSerial}:${index.toString(36).padStart(3, '0')}`;
}

export interface ParsedMessageSerial extends ParsedSerial {
  index: number;
}

export function parseMessageSerial(serial: string): ParsedMessageSerial | undefined {
  const colon = serial.lastIndexOf(':');
  if (colon < 0) return undefined;
  const base = parseSerial(serial.slice(0, colon));
  const indexText = serial.slice(colon + 1);
  if (!base || !/^[0-9a-z]{1,3}$/.test(indexText)) return undefined;
  return { ...base, index: parseInt(indexText, 36) };
}
