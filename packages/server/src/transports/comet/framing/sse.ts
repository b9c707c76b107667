/**
 * Server-Sent Events as the downstream of a bidirectional comet connection: the recv is a
 * `text/event-stream` (an EventSource in the browser), each batch one `data: […]` event; the
 * client sends by POST as usual. Each event's `id` names the connection and the position of the
 * batch in it, so that the browser's own reconnect (same URL, `Last-Event-ID`) continues the
 * connection after what it has, with nothing lost or repeated (the comet transport keeps what it
 * wrote on the current stream until the next one confirms it).
 */
import type { OutboundFrame } from '../../../wire/frame.js';
import { jsonArray, type Framing, type WholeAnswer } from './framing.js';

export const SSE_TYPE = 'text/event-stream; charset=utf-8';

export class SseFraming implements Framing {
  readonly name = 'sse' as const;
  readonly contentType = SSE_TYPE;
  readonly streams = true;

  /** @param retryMs the reconnect delay the browser is told to use after the stream ends */
  constructor(private readonly retryMs: number) {}

  preamble(): string {
    return `retry: ${this.retryMs}\n\n`;
  }

  batch(frames: readonly OutboundFrame[], id?: string): string {
    // JSON text never holds a raw CR or LF, so one `data:` line carries the whole array.
    return id === undefined ? `data: ${jsonArray(frames)}\n\n` : `id: ${id}\ndata: ${jsonArray(frames)}\n\n`;
  }

  epilogue(): string {
    return '';
  }

  whole(frames: readonly OutboundFrame[], status: number): WholeAnswer {
    return { status, body: this.preamble() + this.batch(frames) };
  }
}
