/**
 * What a comet connection wrote to the recvs a client confirms, until it confirms them: the
 * Server-Sent Events streams (the browser's `Last-Event-ID`) and the polled answers of a client
 * that acknowledges (`ack=<position>` on each recv, docs/protocol.md "Acknowledged polling"). A
 * position is the count of frames written so far; a client coming back with position n has the
 * first n frames: the ones after them are written again, so nothing is lost or repeated even when
 * an answer died on the way (a browser silently re-sending a GET whose connection was cut).
 *
 * Only the last frames are kept (what a broken stream or a lost answer can have carried, with room
 * to spare): a client that comes back for older ones resumes the connection instead (CONNECTED,
 * its channels re-attach from the log), so a connection never holds more than this many frame
 * references.
 */
import type { OutboundFrame } from '../../wire/frame.js';

/** Frames kept for a client that comes back (or `maxCometQueue` if smaller). */
export const REPLAY_FRAMES = 512;

export class RecvReplay {
  private frames: OutboundFrame[] = [];
  /** The count of frames before `frames[0]`. */
  private base = 0;
  /** Frames written in all. */
  private written = 0;

  constructor(private readonly limit: number) {}

  /** The position after everything written so far. */
  get count(): number {
    return this.written;
  }

  /** Records frames being written; returns the count after them (the batch's position). */
  record(frames: readonly OutboundFrame[]): number {
    for (const f of frames) this.frames.push(f);
    this.written += frames.length;
    const excess = this.frames.length - this.limit;
    if (excess > 0) {
      this.frames.splice(0, excess);
      this.base += excess;
    }
    return this.written;
  }

  /**
   * The client has the first `confirmed` frames: those are forgotten, and the ones after them
   * returned to be written again. Undefined when `confirmed` is not a position this replay can
   * continue from (older than what is kept, or never written).
   */
  after(confirmed: number): OutboundFrame[] | undefined {
    if (!Number.isSafeInteger(confirmed) || confirmed < this.base || confirmed > this.written) return undefined;
    this.frames.splice(0, confirmed - this.base);
    this.base = confirmed;
    return this.frames.slice();
  }
}

/** The SSE event id of a batch: the connection key and the count of frames written. */
export function sseEventId(connectionKey: string, count: number): string {
  return `${connectionKey}.${count}`;
}

/** The key and count of a `Last-Event-ID`; undefined for anything else. */
export function parseSseEventId(id: string): { key: string; count: number } | undefined {
  const dot = id.lastIndexOf('.');
  if (dot <= 0 || id.length > 200) return undefined;
  const count = id.slice(dot + 1);
  if (!/^\d{1,15}$/.test(count)) return undefined;
  return { key: id.slice(0, dot), count: Number(count) };
}
