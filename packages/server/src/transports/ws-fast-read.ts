/**
 * A client's WebSocket frames read without `ws`'s Receiver on the common path (issue 19, `wsin`).
 *
 * `ws` hands every chunk the socket reads to its Receiver (a Writable that parses, unmasks and checks
 * frames, then emits them): ~55k instructions for a publish's read in V8's baseline tier. This takes
 * `ws`'s 'data' listener's place (`readFramesFast`, once `setSocket` is done) and, only while the
 * Receiver is idle at a frame boundary, reads the complete frames at the chunk's start that are
 * FIN, RSV 0, masked, text or binary with a 7- or 16-bit length within `ws`'s maxPayload (text valid
 * UTF-8 unless `ws` skips that check), the WebSocket still OPEN: each is unmasked in place, as `ws`
 * does, and emitted as the WebSocket's 'message', as `ws` emits it. A complete pong nobody listens
 * for is consumed (its bytes count as read: the heartbeat reads socket.bytesRead). Anything else (a
 * ping, a close, a fragment, a partial frame, a 64-bit length, a bad bit, a frame over the limit,
 * bad UTF-8, a WebSocket closing) and the rest of the chunk from that frame on go to the Receiver as
 * `ws`'s listener hands them (pausing the socket when it says so), so every error, close code and
 * limit stays `ws`'s own. `ws`'s private fields are read through readField and checked: a `ws` whose
 * fields or listener are not as expected keeps its own listener (no fast path).
 */
import { isUtf8 } from 'node:buffer';
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { readField } from '@encke/protocol';
import { WebSocket } from 'ws';

/** The Receiver's state between frames (`ws` 8 receiver.js GET_INFO). */
const GET_INFO = 0;
const TEXT = 0x1;
const BINARY = 0x2;
const PONG = 0xa;
/** The name of `ws`'s 'data' listener (websocket.js `socketOnData`), the one this takes the place of. */
const WS_DATA_LISTENER = 'socketOnData';

/** `ws`'s own symbol for the socket's WebSocket (constants.js kWebSocket), found on the first socket. */
let kWebSocket: symbol = Symbol('not found yet');

/** Whether `ws`'s Receiver has the fields `onData` relies on: checked on the first socket (one `ws` for all). */
let receiverChecked: boolean | undefined;

/**
 * Takes `ws`'s 'data' listener's place on `socket` (just handed to `ws`'s `setSocket`) if `ws` is as
 * expected; true if it did.
 */
export function readFramesFast(ws: WebSocket, socket: Socket): boolean {
  // `ws`'s listener, the socket's only 'data' listener: replaced through the socket's public
  // EventEmitter methods once `ws` is known to be as expected (its fields are checked once a process).
  const listeners = socket.listeners('data');
  const listener = listeners[0];
  if (listeners.length !== 1 || !isListener(listener) || listener.name !== WS_DATA_LISTENER) return false;
  if (readField(socket, kWebSocket) !== ws) {
    const key = socketKey(socket, ws);
    if (key === undefined) return false;
    kWebSocket = key;
  }
  if (receiverChecked === undefined) {
    const receiver = readField(ws, '_receiver');
    receiverChecked = receiver instanceof Writable && expectedReceiver(ws, receiver);
  }
  if (!receiverChecked) return false;
  // Added, then `ws`'s removed: the socket's 'data' entry goes from `ws`'s listener to both to this one,
  // and is never deleted. (Removing the only listener first deletes the entry, which turns the socket's
  // event table into a dictionary: +0.34 MiB of heap per 1,000 connections in bench S3.)
  socket.on('data', onData);
  socket.removeListener('data', listener);
  return true;
}

/** A listener as EventEmitter takes one back (`listeners()` types them `Function`). */
function isListener(f: unknown): f is (...args: unknown[]) => void {
  return typeof f === 'function';
}

/** The symbol under which `ws` keeps `ws` on `socket` (the only one whose description is 'websocket'). */
function socketKey(socket: Socket, ws: WebSocket): symbol | undefined {
  const keys = Object.getOwnPropertySymbols(socket).filter((s) => s.description === 'websocket');
  const key = keys[0];
  return keys.length === 1 && key !== undefined && readField(socket, key) === ws ? key : undefined;
}

/**
 * A server-side Receiver with no extensions, synchronous events and Buffers, its fields as `ws` 8
 * has them: what `onData` relies on.
 */
function expectedReceiver(ws: WebSocket, receiver: Writable): boolean {
  const extensions = readField(receiver, '_extensions');
  return (
    readField(receiver, '_isServer') === true &&
    readField(receiver, '_allowSynchronousEvents') === true &&
    readField(receiver, '_binaryType') === 'nodebuffer' &&
    typeof extensions === 'object' &&
    extensions !== null &&
    Object.keys(extensions).length === 0 &&
    typeof readField(receiver, '_maxPayload') === 'number' &&
    typeof readField(receiver, '_skipUTF8Validation') === 'boolean' &&
    readField(ws, '_closeFrameReceived') === false &&
    idle(ws, receiver)
  );
}

/** The Receiver holds nothing and waits for a frame's first byte: the next frame may be read here. */
function idle(ws: WebSocket, receiver: Writable): boolean {
  return (
    receiver.writable &&
    receiver.writableLength === 0 &&
    readField(receiver, '_state') === GET_INFO &&
    readField(receiver, '_bufferedBytes') === 0 &&
    readField(receiver, '_fragmented') === 0 &&
    readField(receiver, '_errored') === false &&
    ws.binaryType === 'nodebuffer'
  );
}

/** The socket's 'data' listener in `ws`'s place (`this` is the socket, as for `ws`'s own). */
function onData(this: Socket, chunk: Buffer): void {
  const ws = readField(this, kWebSocket);
  const receiver = ws instanceof WebSocket ? readField(ws, '_receiver') : undefined;
  if (!(ws instanceof WebSocket) || !(receiver instanceof Writable)) return;
  let at = 0;
  if (idle(ws, receiver)) at = readFrames(ws, receiver, chunk);
  else if (readField(ws, '_closeFrameReceived') === true || errorEmitted(receiver)) {
    // Where `ws` removes its listener (a close frame read, or the Receiver's error emitted): nothing more is read.
    this.removeListener('data', onData);
    return;
  }
  if (at === chunk.length) return;
  // As `ws`'s own listener: the Receiver takes the rest, and the socket pauses while it is full.
  if (!receiver.write(at === 0 ? chunk : chunk.subarray(at))) this.pause();
}

/** The Receiver's 'error' was emitted (`ws` then removes its listener). */
function errorEmitted(receiver: Writable): boolean {
  const state = readField(receiver, '_writableState');
  return typeof state === 'object' && state !== null && readField(state, 'errorEmitted') === true;
}

/**
 * Reads the frames at `chunk`'s start that the fast path takes, each emitted as `ws` would; returns
 * where the first frame it does not take starts (`chunk.length` if it took them all).
 */
function readFrames(ws: WebSocket, receiver: Writable, chunk: Buffer): number {
  const maxPayload = readField(receiver, '_maxPayload');
  const limit = typeof maxPayload === 'number' && maxPayload > 0 ? maxPayload : Infinity;
  const checkUtf8 = readField(receiver, '_skipUTF8Validation') !== true;
  const end = chunk.length;
  let at = 0;
  // 6 bytes: the shortest masked frame (2 of header, 4 of mask).
  while (end - at >= 6 && ws.readyState === WebSocket.OPEN) {
    const b0 = chunk[at]!;
    const b1 = chunk[at + 1]!;
    // FIN set, RSV1-3 clear, masked.
    if ((b0 & 0xf0) !== 0x80 || (b1 & 0x80) === 0) return at;
    const opcode = b0 & 0x0f;
    let length = b1 & 0x7f;
    let start = at + 6;
    if (length === 126) {
      start = at + 8;
      if (end < start) return at;
      length = (chunk[at + 2]! << 8) | chunk[at + 3]!;
    } else if (length === 127) return at;
    const stop = start + length;
    if (stop > end) return at;
    if (opcode === PONG && (b1 & 0x7f) <= 125 && ws.listenerCount('pong') === 0) {
      // Nobody listens: `ws` would emit it to no one.
      at = stop;
      continue;
    }
    if ((opcode !== TEXT && opcode !== BINARY) || length > limit) return at;
    unmask(chunk, start, stop);
    const payload = chunk.subarray(start, stop);
    if (opcode === TEXT && checkUtf8 && !isUtf8(payload)) {
      // Masked again: `ws`'s Receiver reads the frame as it came, and fails it (1007).
      unmask(chunk, start, stop);
      return at;
    }
    at = stop;
    ws.emit('message', payload, opcode === BINARY);
  }
  return at;
}

/** Words are XORed in the machine's byte order: the mask word below is built little-endian. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * XORs chunk[start, stop) with the 4-byte mask just before `start` (in place, as `ws` does; its own
 * inverse). A word at a time where the payload is aligned: in V8's baseline tier, where a publish's or
 * an ATTACH's read runs, each element access is a call (~200 instructions a byte), so a quarter of them.
 */
function unmask(chunk: Buffer, start: number, stop: number): void {
  let i = start;
  if (LITTLE_ENDIAN && stop - start >= 16) {
    // Bytes up to a 4-byte boundary of the ArrayBuffer, then words, then the bytes after the last word.
    const lead = start + ((4 - ((chunk.byteOffset + start) & 3)) & 3);
    for (; i < lead; i++) chunk[i] = chunk[i]! ^ chunk[start - 4 + ((i - start) & 3)]!;
    const m = start - 4; // the mask
    const d = i - start; // the first word's place in the mask
    const word =
      chunk[m + (d & 3)]! |
      (chunk[m + ((d + 1) & 3)]! << 8) |
      (chunk[m + ((d + 2) & 3)]! << 16) |
      (chunk[m + ((d + 3) & 3)]! << 24);
    const words = new Int32Array(chunk.buffer, chunk.byteOffset + i, (stop - i) >> 2);
    for (let k = 0; k < words.length; k++) words[k] = words[k]! ^ word;
    i += words.length << 2;
  }
  for (; i < stop; i++) chunk[i] = chunk[i]! ^ chunk[start - 4 + ((i - start) & 3)]!;
}
