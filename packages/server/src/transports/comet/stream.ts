/**
 * The streaming side of a comet recv (stream mode): batches written as further pieces of one open
 * chunked response, and the one-frame write every fan-out delivery to a stream makes. CometTransport
 * holds the recv and decides what is written when; this module writes it.
 *
 * A fan-out hands each subscriber the same frame alone (`Transport.writeOne`). On an open plain
 * stream (JSON lines or msgpack arrays: what the SDKs and the bench use) that is the frame's chunk,
 * made once per format for every subscriber (`OutboundFrame.cometChunk`), in one socket write, as a
 * WebSocket delivery writes the frame's bytes: no batch array, no framing choice, no per-write
 * allocation. The bytes are those `writeBatch` writes for a batch of that one frame. A frame that
 * ends the recv (a parked long poll's answer, a stream's last chunk) is one write too (`lastWay`).
 */
import type { Socket } from 'node:net';
import type { Format } from '@encke/protocol';
import { LAST_CHUNK, type ParkedResponse } from '../../http/parked.js';
import type { Faults } from '../../util/faults.js';
import type { OutboundFrame } from '../../wire/frame.js';
import { answerParked, chunked, closeStream, openStream, parkedPoll, writeBatch, type Recv } from './recv.js';

/**
 * A plain stream held on a parked socket (a renewal read there: raw-recv.ts) sends its head at
 * once, in the quiet after the fan-out that ended the last one, rather than before its first batch:
 * the next fan-out's frame is then one direct write (`directSocket`), not a batch after a head.
 */
export function openParked(recv: Recv): void {
  if (recv.parked !== null && recv.mode.stream && !recv.open && recv.mode.framing === undefined) openStream(recv);
}

/** Writes `frames` as the next piece of `recv`'s stream, opening it first if needed; returns the bytes written. */
export function streamBatch(recv: Recv, frames: readonly OutboundFrame[], id?: string): number {
  const before = recv.bytes;
  if (!recv.open) openStream(recv);
  writeBatch(recv, frames, id);
  return recv.bytes - before;
}

/**
 * Ends the open stream with `frames` as its last batch (none if empty) and the framing's epilogue;
 * returns the bytes written. A stream that got nothing yet (opened early by `openParked`) ends with
 * an empty batch: every recv response carries at least one array, as a whole answer's `[]` does.
 */
export function streamEnd(recv: Recv, frames: readonly OutboundFrame[]): number {
  const before = recv.bytes;
  if (frames.length > 0 || recv.bytes === 0) writeBatch(recv, frames);
  closeStream(recv);
  return recv.bytes - before;
}

/**
 * The stream ends with the batch just written: it is past its lifetime (`ending`), or it is a
 * forever-iframe's document past its byte budget (the page opens the next one).
 */
export function streamDone(recv: Recv, maxIframeBytes: number): boolean {
  return recv.ending || (recv.mode.framing?.name === 'htmlfile' && recv.bytes >= maxIframeBytes);
}

/**
 * The socket a frame alone can be written to as its shared chunk: `recv` is an open plain stream
 * with chunked encoding (parked, or still node:http's after its head was flushed) that is not
 * ending (an open recv is a stream). Null: the frame goes the general way (a batch, opening the stream, a framing, SSE ids, an
 * HTTP/1.0 body without chunks, or the last batch of an ending stream).
 */
export function directSocket(recv: Recv): Socket | null {
  return recv.ending ? null : streamSocket(recv);
}

/**
 * Writes a frame's chunk (`OutboundFrame.cometIfEncodes` in `recv`'s format) to `socket` (from
 * `directSocket(recv)`); returns its size.
 */
export function streamOne(recv: Recv, socket: Socket, chunk: Buffer): number {
  recv.bytes += chunk.length;
  socket.write(chunk);
  return chunk.length;
}

/**
 * The parked response of a plain stream whose next frame is its last (`ending`: past its lifetime),
 * or null. Such a stream ends in a fan-out (right after a batch, so that the client's next recv has
 * the whole gap before the next message); its last frame and the end go out as one write
 * (`streamLast`), not a batch, a second write and node's end of response.
 */
export function endingParked(recv: Recv): ParkedResponse | null {
  return recv.ending && recv.open && recv.mode.framing === undefined ? recv.parked : null;
}

/** One key per format for a frame's last chunk with the end of the body (OutboundFrame.memo). */
const LAST_KEYS: Record<Format, object> = { json: {}, msgpack: {} };
const TERMINATOR = Buffer.from(LAST_CHUNK, 'latin1');
/** Per format, what makes that piece (no closure per stream): the bytes `streamEnd` writes in two writes. */
const LAST_MAKERS: Record<Format, (frame: OutboundFrame) => Buffer> = {
  json: (f) => Buffer.concat([f.cometChunk('json'), TERMINATOR]),
  msgpack: (f) => Buffer.concat([f.cometChunk('msgpack'), TERMINATOR]),
};

/**
 * Ends `recv`'s stream (parked, from `endingParked`) with `frame`, whose chunk in `recv`'s format is
 * `chunk`: the chunk and the end of the body in one write, made once per frame and format. Returns
 * the bytes counted as written (the chunk's, as `streamEnd` counts them).
 */
export function streamLast(recv: Recv, parked: ParkedResponse, frame: OutboundFrame, chunk: Buffer): number {
  recv.bytes += chunk.length;
  parked.endChunkedWith(frame.memo(LAST_KEYS[recv.format], LAST_MAKERS[recv.format]));
  return chunk.length;
}

/** `lastWay`: the frame goes the batch way (`writeAlone`), or is written by `writeLastWay`. */
export const BATCH_WAY = 0;
const POLL_ANSWER = 1;
const STREAM_LAST = 2;
/** An ending stream gets the frame as its next chunk and stays open: the frame ended its share (`mayEndWith`). */
export const STREAM_ON = 3;

/**
 * Most streams one fan-out frame ends. The heartbeat pass visits a twentieth of the connections at a
 * time, each every interval, so the streams it finds past their lifetime come in bursts: at S7's churn
 * (1,000 streams living 15-30 s) 7-20 of one slice's connections, all ended by the next fan-out frame,
 * i.e. that many renewals (ends, next recvs read, heads written) in one fan-out in ~1 of 9 fan-outs
 * and none in the others (bench/README, `cstrm4`). Four a frame spreads them over the next frames (at
 * 20 messages a second, 80 ends a second against ~44 renewals per second per 1,000 streams); one still
 * ending at its next visit ends there (as a quiet one does), so the spread holds a stream one interval
 * at most.
 */
const MAX_ENDS_PER_FRAME = 4;
/** The frame the last stream end went with, and how many more streams it may end. */
let endingFrame: OutboundFrame | null = null;
let endsLeft = 0;

/** Whether `frame` may end one more stream (counted: at most `MAX_ENDS_PER_FRAME`). */
function mayEndWith(frame: OutboundFrame): boolean {
  if (frame !== endingFrame) {
    endingFrame = frame;
    endsLeft = MAX_ENDS_PER_FRAME;
  }
  if (endsLeft === 0) return false;
  endsLeft--;
  return true;
}

/**
 * How a fan-out's frame that ends `recv` goes out. A parked plain poll (`pollable`: its client does
 * not acknowledge answers) gets the frame's shared answer in one write (`answerParked`), as a
 * WebSocket gets the frame's bytes: no batch array, no framing choice, no answer built. A parked plain
 * stream past its lifetime gets the frame's chunk and its end in one write (`streamLast`), if they fit
 * in `maxBuffer`. A frame that has ended its share of streams (`mayEndWith`) goes to every other
 * ending plain stream (parked or not) as its chunk alone (`STREAM_ON`): that stream ends after a later
 * frame, or at its next visit. Anything else goes the batch way (an ending stream not parked ends
 * there), as does a frame that does not encode (dropped there, reported once).
 */
export function lastWay(
  recv: Recv,
  frame: OutboundFrame,
  pollable: boolean,
  faults: Faults,
  maxBuffer: number,
): number {
  if (pollable && parkedPoll(recv) !== null) return frame.encodes(recv.format, faults) ? POLL_ANSWER : BATCH_WAY;
  const socket = recv.ending ? streamSocket(recv) : null;
  const chunk = socket === null ? null : frame.cometIfEncodes(recv.format, faults);
  if (socket === null || chunk === null || socket.writableLength + chunk.length > maxBuffer) return BATCH_WAY;
  if (!mayEndWith(frame)) return STREAM_ON;
  return endingParked(recv) === null ? BATCH_WAY : STREAM_LAST;
}

/** The socket of an open plain stream with chunked encoding (parked or not), ending or not; else null. */
function streamSocket(recv: Recv): Socket | null {
  if (!recv.open || recv.mode.framing !== undefined) return null;
  if (recv.parked !== null) return recv.parked.socket;
  return chunked(recv) ? recv.res!.socket : null;
}

/** Writes `frame` to `recv` the way `lastWay` chose (not the batch way); returns the bytes counted as written. */
export function writeLastWay(way: number, recv: Recv, frame: OutboundFrame): number {
  if (way === STREAM_ON) return streamOne(recv, streamSocket(recv)!, frame.cometChunk(recv.format));
  const parked = recv.parked;
  if (parked === null) return 0;
  if (way === POLL_ANSWER) return answerParked(parked, frame, recv.format);
  return streamLast(recv, parked, frame, frame.cometChunk(recv.format));
}
