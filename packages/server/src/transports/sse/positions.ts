/**
 * The `id` of an SSE API event: where the stream is in each of its channels, so that a new request
 * with `lastEvent` (or the browser's `Last-Event-ID`) resumes every channel right after what the
 * client has. One position per channel, in the order of the `channels` param, joined by `~`:
 *
 * - an event serial (`<epoch>-<seq>`): everything up to and including that event was delivered;
 * - a message serial (`<epoch>-<seq>:<index>`): that event's items up to `index` were delivered.
 *
 * Resuming at a message serial re-attaches from the event before and skips the items already seen,
 * so a stream cut in the middle of one publish of several messages repeats none of them.
 */
import { AblyError, Err } from '@encke/protocol';
import { formatSerial, parseMessageSerial, parseSerial } from '../../engine/serial.js';

const SEPARATOR = '~';
/** Longest position accepted (a message serial is ~50 characters). */
const MAX_POSITION_LENGTH = 80;

/** Where to re-attach a channel, and which items of the first replayed event were already seen. */
export interface ResumePoint {
  channelSerial: string;
  /** Skip items of event `seq` with index <= `index`. */
  skip?: { seq: number; index: number };
}

export function encodePositions(positions: readonly string[]): string {
  return positions.join(SEPARATOR);
}

function invalid(): AblyError {
  return new AblyError(Err.invalidParameterValue, 'Invalid lastEvent: not an event id of a stream on these channels');
}

/** The resume point of each of `channels` channels; 40003 for anything this server did not issue. */
export function decodePositions(id: string, channels: number): ResumePoint[] {
  if (id.length > channels * (MAX_POSITION_LENGTH + 1)) throw invalid();
  const parts = id.split(SEPARATOR);
  if (parts.length !== channels) throw invalid();
  return parts.map(resumePoint);
}

function resumePoint(position: string): ResumePoint {
  if (position.includes(':')) {
    const m = parseMessageSerial(position);
    if (!m) throw invalid();
    return { channelSerial: formatSerial(m.epoch, m.seq - 1), skip: { seq: m.seq, index: m.index } };
  }
  const s = parseSerial(position);
  if (!s) throw invalid();
  return { channelSerial: position };
}

/** Whether item `serial` was already delivered before a resume at `point`. */
export function alreadySeen(point: ResumePoint | undefined, serial: string | undefined): boolean {
  if (!point?.skip || serial === undefined) return false;
  const m = parseMessageSerial(serial);
  return m !== undefined && m.seq === point.skip.seq && m.index <= point.skip.index;
}
