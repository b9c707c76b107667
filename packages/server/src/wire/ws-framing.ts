/**
 * Server-to-client WebSocket framing (RFC 6455 §5.2): unmasked, FIN set, no extensions. Framing a
 * message ourselves lets one prepared buffer be written to every subscriber's socket, which is what
 * makes fan-out cheap; the `ws` library still does the handshake, parsing, pings and close.
 */
export const WS_OPCODE_TEXT = 0x1;
export const WS_OPCODE_BINARY = 0x2;
const WS_FIN = 0x80;
const WS_OPCODE_PING = 0x9;

/**
 * A server ping with no payload (FIN, opcode 9, length 0, unmasked), written as it is: the heartbeat
 * visit pings every silent connection, and `ws`'s own `ping()` (its Sender: a header Buffer, a corked
 * socket and two writes) cost about eight times a delivery's work per ping. The client's `ws` answers
 * it with a pong, which `ws` parses as before.
 */
export const WS_PING_FRAME: Buffer = Buffer.from([WS_FIN | WS_OPCODE_PING, 0]);

/**
 * The header of a frame of `length` payload bytes as latin1 text (one char a byte), for frames
 * written to the socket as text (a template's CONNECTED or ATTACHED: no Buffer made for them).
 */
export function wsHeaderText(length: number, opcode: number): string {
  const first = 0x80 | opcode;
  if (length < 126) return String.fromCharCode(first, length);
  if (length < 65536) return String.fromCharCode(first, 126, length >>> 8, length & 0xff);
  const high = Math.floor(length / 2 ** 32);
  const low = length >>> 0;
  return String.fromCharCode(
    first,
    127,
    high >>> 24,
    (high >>> 16) & 0xff,
    (high >>> 8) & 0xff,
    high & 0xff,
    low >>> 24,
    (low >>> 16) & 0xff,
    (low >>> 8) & 0xff,
    low & 0xff,
  );
}

/** Room before a text frame's payload in `scratch` for the longest header (10 bytes). */
const HEAD_ROOM = 10;
const SCRATCH_BYTES = 16_384;
/** Where a text frame's payload is encoded first: reused from frame to frame (framing is synchronous). */
const scratch = Buffer.allocUnsafe(SCRATCH_BYTES);

/**
 * A frame of `text`: its UTF-8 bytes written once into `scratch` (which gives their count), then copied
 * behind the header. Counting the bytes first (`Buffer.byteLength`) walked the text twice, and
 * flattened JSON.stringify's result (a string of parts) to do it (bench/README, `pubpath2`). Text
 * that might not fit (3 bytes a UTF-16 unit at most) is framed as before.
 */
export function wsTextFrame(text: string, opcode: number): Buffer {
  if (text.length * 3 > SCRATCH_BYTES - HEAD_ROOM) return wsFrame(text, opcode);
  const length = scratch.write(text, HEAD_ROOM, 'utf8');
  const headerLength = length < 126 ? 2 : 4;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x80 | opcode;
  if (length < 126) {
    frame[1] = length;
  } else {
    frame[1] = 126;
    frame[2] = length >>> 8;
    frame[3] = length & 0xff;
  }
  frame.set(scratch.subarray(HEAD_ROOM, HEAD_ROOM + length), headerLength);
  return frame;
}

export function wsFrame(payload: string | Uint8Array, opcode: number): Buffer {
  const length = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.byteLength;
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x80 | opcode;
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  if (typeof payload === 'string') frame.write(payload, headerLength, 'utf8');
  else frame.set(payload, headerLength);
  return frame;
}
