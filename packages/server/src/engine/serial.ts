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

/**
 * `'0'.repeat(n)` for every padding a seq can need: a serial is made once per publish (and one per
 * message), and padStart made strings of its own for each (bench S7: a publish's garbage).
 */
const ZEROS: readonly string[] = Array.from({ length: SEQ_DIGITS + 1 }, (_, n) => '0'.repeat(n));

export function formatSerial(epoch: string, seq: number): string {
  const digits = seq.toString(36);
  // As padStart: digits past SEQ_DIGITS (no safe integer has them) are not padded.
  return epoch + '-' + (ZEROS[SEQ_DIGITS - digits.length] ?? '') + digits;
}

export function parseSerial(serial: string): ParsedSerial | undefined {
  const m = SERIAL_RE.exec(serial);
  if (!m) return undefined;
  const seq = parseInt(m[2]!, 36);
  return Number.isSafeInteger(seq) ? { epoch: m[1]!, seq } : undefined;
}

/** Char codes of the seq's base-36 digits and the epoch's separator. */
const CHAR_0 = 0x30;
const CHAR_9 = 0x39;
const CHAR_A_LOWER = 0x61;
const CHAR_Z_LOWER = 0x7a;
const CHAR_DASH = 0x2d;
const BASE = 36;

/**
 * Whether `serial` is a well-formed serial of epoch `epoch` (itself a parsed, well-formed epoch):
 * exactly `parseSerial(serial)?.epoch === epoch`, without the regular expression's match array and
 * strings. A node checks each event's epoch against the last one's (LocalChannels.accept), and all but
 * the first event of a channel's life match it.
 */
export function hasEpoch(serial: string, epoch: string): boolean {
  const n = epoch.length;
  if (serial.length !== n + 1 + SEQ_DIGITS || !serial.startsWith(epoch) || serial.charCodeAt(n) !== CHAR_DASH)
    return false;
  let seq = 0;
  for (let i = n + 1; i < serial.length; i++) {
    const c = serial.charCodeAt(i);
    if (c >= CHAR_0 && c <= CHAR_9) seq = seq * BASE + (c - CHAR_0);
    else if (c >= CHAR_A_LOWER && c <= CHAR_Z_LOWER) seq = seq * BASE + (c - CHAR_A_LOWER + 10);
    else return false;
  }
  // As parseSerial: 11 base-36 digits can exceed 2^53, and such a seq is no serial. (Rounding is
  // monotonic, so a seq past the largest safe integer never computes to one at or below it.)
  return seq <= Number.MAX_SAFE_INTEGER;
}

/** Base-36 digits of a message's index in its event's serial. */
const INDEX_DIGITS = 3;
/** The suffixes of the first messages of an event (most publishes carry one), made once. */
const INDEX_SUFFIXES: readonly string[] = Array.from({ length: BASE }, (_, i) => indexSuffix(i));

function indexSuffix(index: number): string {
  return `:${index.toString(36).padStart(INDEX_DIGITS, '0')}`;
}

export function messageSerial(eventSerial: string, index: number): string {
  return eventSerial + (INDEX_SUFFIXES[index] ?? indexSuffix(index));
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
