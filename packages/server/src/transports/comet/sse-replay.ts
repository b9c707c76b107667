/**
 * What a comet connection wrote to its Server-Sent Events streams and the browser has not yet
 * confirmed. Each SSE batch's `id` is `<connectionKey>.<n>`, n counting the frames written so far;
 * when the stream breaks the browser reconnects by itself with `Last-Event-ID`, which says how
 * many it has: the frames after that are written again, and nothing is lost or repeated.
 *
 * Only the last frames are kept (what a broken stream can have had in flight, with room to spare):
 * a browser that comes back for older ones resumes the connection instead (CONNECTED, its channels
 * re-attach from the log), so an SSE connection never holds more than this many frame references.
 */
import type { OutboundFrame } from '../../wire/frame.js';

/** Frames kept for a stream that comes back (or `maxCometQueue` if smaller). */
export const SSE_REPLAY_FRAMES = 512;

export class SseReplay {
  private frames: OutboundFrame[] = [];
  /** The count of frames before `frames[0]`. */
  private base = 0;
  /** Frames written to SSE streams in all. */
  private written = 0;

  constructor(private readonly limit: number) {}

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
   * The browser has the first `confirmed` frames: those are forgotten, and the ones after them
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
