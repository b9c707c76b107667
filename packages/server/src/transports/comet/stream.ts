/**
 * The streaming side of a comet recv (stream mode): batches written as further pieces of one open
 * chunked response, and the one-frame write every fan-out delivery to a stream makes. CometTransport
 * holds the recv and decides what is written when; this module writes it.
 *
 * A fan-out hands each subscriber the same frame alone (`Transport.writeOne`). On an open plain
 * stream (JSON lines or msgpack arrays: what the SDKs and the bench use) that is the frame's chunk,
 * made once per format for every subscriber (`OutboundFrame.cometChunk`), in one socket write, as a
 * WebSocket delivery writes the frame's bytes: no batch array, no framing choice, no per-write
 * allocation. The bytes are those `writeBatch` writes for a batch of that one frame.
 */
import type { Socket } from 'node:net';
import type { OutboundFrame } from '../../wire/frame.js';
import { closeStream, openStream, writeBatch, type Recv } from './recv.js';

/** Writes `frames` as the next piece of `recv`'s stream, opening it first if needed; returns the bytes written. */
export function streamBatch(recv: Recv, frames: readonly OutboundFrame[], id?: string): number {
  const before = recv.bytes;
  if (!recv.open) openStream(recv);
  writeBatch(recv, frames, id);
  return recv.bytes - before;
}

/** Ends the open stream with `frames` as its last batch (none if empty) and the framing's epilogue; returns the bytes written. */
export function streamEnd(recv: Recv, frames: readonly OutboundFrame[]): number {
  const before = recv.bytes;
  if (frames.length > 0) writeBatch(recv, frames);
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
  if (!recv.open || recv.ending || recv.mode.framing !== undefined) return null;
  if (recv.parked !== null) return recv.parked.socket;
  const res = recv.res!;
  return res.socket !== null && (res as { chunkedEncoding?: boolean }).chunkedEncoding === true ? res.socket : null;
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
