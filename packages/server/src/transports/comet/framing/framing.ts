/**
 * How a comet recv response carries batches of ProtocolMessages. The comet transport and the
 * session are the same for every technique; only this framing differs:
 *
 *   json      one JSON array per line (`[…]\n`), streamed or one per poll (ably-js comet, XHR/fetch)
 *   msgpack   one msgpack array per batch, concatenated
 *   jsonp     `cb({statusCode, response, headers})` as application/javascript (script-tag polling)
 *   sse       `data: […]` events of text/event-stream (EventSource), ids for the browser's resume
 *   htmlfile  a forever-iframe: `<script>p([…])</script>` chunks in a text/html document
 *   multipart one `application/json` part per batch of multipart/x-mixed-replace (or /mixed)
 *
 * A framing's `batch` depends on the frames only (never on a request's callback or origin), so one
 * frame's piece is made once and shared by every subscriber using the same framing.
 */
import type { OutboundFrame } from '../../../wire/frame.js';

export type FramingName = 'json' | 'msgpack' | 'jsonp' | 'sse' | 'htmlfile' | 'multipart' | 'mixed';

/** A whole (non-streamed) answer. */
export interface WholeAnswer {
  status: number;
  body: string | Buffer;
}

export interface Framing {
  readonly name: FramingName;
  /** The response's Content-Type. */
  readonly contentType: string;
  /** False: every response carries exactly one batch (a poll), whatever the connection's mode. */
  readonly streams: boolean;
  /** Written once when a streamed response opens (padding, reconnect delay, first boundary). */
  preamble(): string;
  /** One batch as a piece of a streamed body; `id` (SSE only) lets the client resume after it. */
  batch(frames: readonly OutboundFrame[], id?: string): string | Buffer;
  /** Written last when the server ends a streamed response. */
  epilogue(): string;
  /**
   * A poll's answer: `frames` as the whole body. `status` and `headers` are what a plain HTTP
   * answer would carry (a fatal ERROR's status and X-Ably-Error* headers, an acknowledged poll's
   * X-Encke-Position).
   */
  whole(frames: readonly OutboundFrame[], status: number, headers: Readonly<Record<string, string>>): WholeAnswer;
}

/** `[<frame>,…]`: the frames' own JSON texts joined, never re-serialised. */
export function jsonArray(frames: readonly OutboundFrame[]): string {
  if (frames.length === 1) return `[${frames[0]!.json()}]`;
  let text = '[';
  for (let i = 0; i < frames.length; i++) text += (i === 0 ? '' : ',') + frames[i]!.json();
  return text + ']';
}
