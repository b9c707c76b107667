/**
 * Writing a recv response: the plain comet body (JSON lines or msgpack, the fast path every SDK
 * uses) or a technique's framing (framing/). Streamed pieces of one frame are made once and shared
 * by every subscriber on the same framing.
 */
import type { ServerResponse } from 'node:http';
import { Action, type Format } from '@encke/protocol';
import { ParkedResponse } from '../../http/parked.js';
import { SharedAnswer } from '../../http/raw-answer.js';
import { headerSafe } from '../../http/respond.js';
import type { Clock } from '../../util/clock.js';
import { compactTime } from '../../util/compact-time.js';
import { OutboundFrame, httpChunk } from '../../wire/frame.js';
import type { Framing, FramingName } from './framing/framing.js';
import type { RecvMode } from './framing/select.js';
import type { RecvReplay } from './replay.js';
import { contentType, encodeBatch, jsonBatch, jsonBatchBytes } from './wire.js';

/** A held recv: the response frames are written to. */
export interface Recv {
  /** node:http's response; null once the recv is parked (`parked` is then where it is written). */
  res: ServerResponse | null;
  /** The response taken off node:http while it is held (http/parked.ts). */
  parked: ParkedResponse | null;
  readonly format: Format;
  readonly mode: RecvMode;
  /** When a stream is ended for the client to open the next one (`streamLifetime`; util/compact-time.ts). */
  readonly expires: number;
  /** Headers sent: a stream is open and may take more batches. */
  open: boolean;
  /**
   * Past `expires` while batches were still being written: the stream ends right after its next
   * batch (or at the next heartbeat visit if none comes), not between two of them.
   */
  ending: boolean;
  /**
   * Bytes written to the stream so far (the forever-iframe's budget; 0: nothing written yet). A plain
   * stream's fan-out chunks after its first direct one (CometTransport's `direct`) are not counted here:
   * no framing has a budget, only whether anything was written matters.
   */
  bytes: number;
}

/** Where a recv is answered: node:http's response, or one taken off node:http (http/parked.ts). */
export type RecvResponse = ServerResponse | ParkedResponse;

/**
 * A recv held on `res`: node:http's response, or a parked one (whose socket's close the transport
 * hears through `parkedClosed`, not a listener).
 */
export function heldRecv(res: RecvResponse, format: Format, mode: RecvMode, expires: number): Recv {
  // One literal, fields in one order: one object of one shape per recv (a spread copied them one by one).
  const isParked = res instanceof ParkedResponse;
  return {
    res: isParked ? null : res,
    parked: isParked ? res : null,
    format,
    mode,
    expires,
    open: false,
    ending: false,
    bytes: 0,
  };
}

/**
 * The share of `maxCometStreamDuration` over which the ends of streams are spread. Streams opened
 * together (every client of a node reconnecting after a restart, a bench's subscribers) would
 * otherwise all be ended in the same heartbeat pass, every `maxCometStreamDuration`, forever: each
 * end brings a new request from its client (node:http parses it, the recv is routed, authenticated
 * and parked again), so that a message published meanwhile waited behind a whole wave of them.
 */
const STREAM_END_SPREAD = 0.5;

/** How long a stream is held: at most `maxDuration`, at least `(1 - STREAM_END_SPREAD)` of it, at random. */
export function streamLifetime(maxDuration: number): number {
  return maxDuration - Math.floor(Math.random() * maxDuration * STREAM_END_SPREAD);
}

/** A poll's `Recv.expires`: polls are answered, never recycled by lifetime (`tick` looks at streams only). */
const POLL_EXPIRES = 0;

/**
 * When a recv held now in `mode` is ended for the next one (`Recv.expires`): a stream's lifetime
 * from now. A poll reads no clock and draws no random number (every long-poll recv comes here).
 */
export function recvExpiry(mode: RecvMode, clock: Clock, maxStreamDuration: number): number {
  return mode.stream ? compactTime(clock.now() + streamLifetime(maxStreamDuration)) : POLL_EXPIRES;
}

/** Headers every held response carries: never cached, transformed or buffered by a proxy. */
const HELD = { 'Cache-Control': 'no-store, no-transform', 'X-Accel-Buffering': 'no' } as const;

function heldHeaders(format: Format): Record<string, string> {
  return { 'Content-Type': contentType(format), ...HELD };
}
const JSON_HEADERS: readonly string[] = Object.entries(heldHeaders('json')).flat();
const MSGPACK_HEADERS: readonly string[] = Object.entries(heldHeaders('msgpack')).flat();

function framedHeaders(framing: Framing): Record<string, string> {
  return { 'Content-Type': framing.contentType, 'X-Content-Type-Options': 'nosniff', ...HELD };
}

/** Sends the head of a stream and its framing's preamble. */
export function openStream(recv: Recv): void {
  const framing = recv.mode.framing;
  if (recv.parked)
    recv.parked.openChunked(
      framing ? framedHeaderList(framing) : recv.format === 'json' ? JSON_HEADERS : MSGPACK_HEADERS,
    );
  else {
    recv.res!.writeHead(200, framing ? framedHeaders(framing) : heldHeaders(recv.format));
    // The head goes first: chunks are then written to the socket directly.
    recv.res!.flushHeaders();
  }
  recv.open = true;
  const preamble = framing?.preamble() ?? '';
  if (preamble !== '') write(recv, Buffer.from(preamble));
}

/** One key per framing for the per-frame piece cache (OutboundFrame.memo). */
const CHUNK_KEYS: Record<FramingName, object> = {
  json: {},
  msgpack: {},
  jsonp: {},
  sse: {},
  htmlfile: {},
  multipart: {},
  mixed: {},
};

/**
 * Writes a batch to an open stream. With chunked encoding the chunk is framed here and written to
 * the socket directly: a single frame's chunk is made once and shared by every subscriber, one
 * socket write each, instead of node:http's cork, three-part writev and uncork per response.
 * Node still ends the response (`0\r\n\r\n`) in `res.end()`.
 */
export function writeBatch(recv: Recv, frames: readonly OutboundFrame[], id?: string): void {
  const framing = recv.mode.framing;
  if (!framing) {
    if (chunked(recv) && frames.length === 1) return writeChunk(recv, frames[0]!.cometChunk(recv.format));
    return write(recv, encodeBatch(frames, recv.format));
  }
  if (chunked(recv) && frames.length === 1 && id === undefined) {
    return writeChunk(
      recv,
      frames[0]!.memo(CHUNK_KEYS[framing.name], (f) => httpChunk(Buffer.from(framing.batch([f])))),
    );
  }
  write(recv, Buffer.from(framing.batch(frames, id)));
}

/** Ends an open stream with the framing's epilogue. */
export function closeStream(recv: Recv): void {
  const epilogue = recv.mode.framing?.epilogue() ?? '';
  if (epilogue !== '') write(recv, Buffer.from(epilogue));
  if (recv.parked) recv.parked.endChunked();
  else recv.res!.end();
}

/** Bytes of the recv's response not yet taken by the kernel (the slow-consumer check). */
export function buffered(recv: Recv): number {
  return recv.parked ? recv.parked.writableLength : (recv.res!.socket?.writableLength ?? 0);
}

/** Cuts the recv's connection. */
export function destroyRecv(recv: Recv): void {
  (recv.parked ?? recv.res!).destroy();
}

/** A parked recv is always chunked (only such streams are parked once open). */
export function chunked(recv: Recv): boolean {
  if (recv.parked) return true;
  return recv.res!.socket !== null && recv.res!.chunkedEncoding;
}

function writeChunk(recv: Recv, chunk: Buffer): void {
  recv.bytes += chunk.length;
  if (recv.parked) recv.parked.write(chunk);
  else recv.res!.socket!.write(chunk);
}

function write(recv: Recv, piece: Buffer): void {
  if (chunked(recv)) return writeChunk(recv, httpChunk(piece));
  recv.bytes += piece.length;
  recv.res!.write(piece);
}

/** The header of an acknowledged poll's answer: the position to send back as `ack` on the next recv. */
export const POSITION_HEADER = 'X-Encke-Position';

/**
 * Answers a recv in one piece. The status is 200 unless the batch ends with a fatal ERROR: then it
 * is that error's status with the X-Ably-Error headers, and the body is still the protocol message
 * array (ably-js acts on an array whatever the status; plain clients see a failed request). A
 * framing may carry the status inside its body instead (JSONP: a script runs only from a 200), and
 * then the headers too. `position`: an acknowledged poll's position, sent as X-Encke-Position.
 * Returns the body's size in bytes (for the bytes-out metric).
 */
export function respond(
  res: RecvResponse,
  frames: readonly OutboundFrame[],
  format: Format,
  framing: Framing | undefined,
  position?: number,
): number {
  if (frames.length === 1 && !framing && position === undefined && 'answerShared' in res)
    return answerParked(res, frames[0]!, format);
  const { status, headers, body, length } = answerOf(frames, format, framing, position);
  if ('answer' in res) res.answer(status, headers, body);
  else res.writeHead(status, headers).end(body);
  return length;
}

/**
 * A whole answer to a recv (`respond`): what the client said it missed (`again`, already recorded)
 * and `frames`, which `replay` (the client acknowledges: the answer carries its position) records.
 * Returns the body's size in bytes.
 */
export function answerRecv(
  res: RecvResponse,
  frames: readonly OutboundFrame[],
  again: readonly OutboundFrame[] | undefined,
  format: Format,
  framing: Framing | undefined,
  replay: RecvReplay | null,
): number {
  replay?.record(frames);
  return respond(res, again && again.length > 0 ? [...again, ...frames] : frames, format, framing, replay?.count);
}

/**
 * A parked plain long poll (no framing) held by `recv`, or null: what a fan-out's frame may answer
 * directly with `answerParked` (the transport checks the rest: not acknowledged, the frame encodes).
 */
export function parkedPoll(recv: Recv): ParkedResponse | null {
  return recv.mode.stream || recv.mode.framing !== undefined ? null : recv.parked;
}

/**
 * Answers a parked long poll with one frame (a fan-out's): the frame's whole answer, made once per
 * format and shared by every poller (`SharedAnswer`), in one write. Returns the body's size.
 */
export function answerParked(parked: ParkedResponse, frame: OutboundFrame, format: Format): number {
  const shared = frame.memo(SHARED_ANSWER_KEYS[format], SHARED_ANSWER_MAKERS[format]);
  parked.answerShared(shared);
  return shared.body.length;
}

/** One key per format for a frame's shared long-poll answer (OutboundFrame.memo). */
const SHARED_ANSWER_KEYS: Record<Format, object> = { json: {}, msgpack: {} };

function sharedAnswer(frames: readonly OutboundFrame[], format: Format): SharedAnswer {
  const { status, headers, body } = answerOf(frames, format, undefined, undefined);
  return new SharedAnswer(status, headers, typeof body === 'string' ? Buffer.from(body) : body);
}

/** Per format, what makes a frame's shared answer (no closure made per answer). */
const SHARED_ANSWER_MAKERS: Record<Format, (frame: OutboundFrame) => SharedAnswer> = {
  json: (f) => sharedAnswer([f], 'json'),
  msgpack: (f) => sharedAnswer([f], 'msgpack'),
};

interface Answer {
  status: number;
  /** Flat `[name, value, …]`, Content-Length included. */
  headers: string[];
  body: string | Buffer;
  length: number;
}

/** Status, headers and body of a recv's whole answer (`respond`). */
function answerOf(
  frames: readonly OutboundFrame[],
  format: Format,
  framing: Framing | undefined,
  position: number | undefined,
): Answer {
  const last = frames[frames.length - 1]?.pm;
  const fatal = last?.action === Action.ERROR && last.error ? last.error : undefined;
  const status = fatal ? fatal.statusCode : 200;
  const answerHeaders: Record<string, string> = fatal
    ? { 'X-Ably-ErrorCode': String(fatal.code), 'X-Ably-ErrorMessage': headerSafe(fatal.message) }
    : {};
  if (position !== undefined) answerHeaders[POSITION_HEADER] = String(position);
  let body: string | Buffer;
  let length: number;
  let headers: string[];
  if (framing) {
    const answer = framing.whole(frames, status, answerHeaders);
    body = answer.body;
    length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    // A framing that carries the status inside (JSONP) answers 200 with no error headers.
    headers = [...framedHeaderList(framing), 'Content-Length', String(length)];
    if (answer.status !== status) return { status: answer.status, headers, body, length };
  } else {
    body = format === 'json' ? jsonBatch(frames) : encodeBatch(frames, format);
    length = typeof body === 'string' ? jsonBatchBytes(frames) : body.length;
    // Flat [name, value, …] headers: no object to build and walk on every poll.
    headers = [...(format === 'json' ? JSON_HEADERS : MSGPACK_HEADERS), 'Content-Length', String(length)];
  }
  if (fatal)
    headers.push(
      'X-Ably-ErrorCode',
      answerHeaders['X-Ably-ErrorCode']!,
      'X-Ably-ErrorMessage',
      answerHeaders['X-Ably-ErrorMessage']!,
    );
  if (position !== undefined) headers.push(POSITION_HEADER, String(position));
  return { status, headers, body, length };
}

/** The flat headers of a framing's answers, made once per Content-Type. */
const FRAMED_LISTS = new Map<string, readonly string[]>();
function framedHeaderList(framing: Framing): readonly string[] {
  let list = FRAMED_LISTS.get(framing.contentType);
  if (!list) FRAMED_LISTS.set(framing.contentType, (list = Object.entries(framedHeaders(framing)).flat()));
  return list;
}
