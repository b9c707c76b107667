/**
 * What a client's WebSocket frame becomes (websocket.ts): its bytes decoded into what the session
 * takes (a ProtocolMessage, or a PayloadError it answers in-band), and the frames held while the
 * connection is not established yet (auth is asynchronous).
 */
import {
  AblyError,
  Err,
  PayloadError,
  decodeFrame,
  decodeLimits,
  parseProtocolMessage,
  type Format,
} from '@encke/protocol';
import type { RawData } from 'ws';
import type { Inbound } from '../session/port.js';

/** Frames a client may send before its connection is established (auth is asynchronous). */
const MAX_EARLY_FRAMES = 100;

/** The bytes of a frame as `ws` hands them over (one Buffer, fragments, or an ArrayBuffer). */
export function frameBytes(data: RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
}

/**
 * A client's frame as the session takes it: a message, or a PayloadError (a bad payload in a
 * well-formed frame, answered in-band). Throws for a frame that ends the connection (too large:
 * 40009; not a protocol message).
 */
export function decodeInbound(bytes: Buffer, isBinary: boolean, format: Format, maxFrameSize: number): Inbound {
  if (bytes.byteLength > maxFrameSize) {
    throw new AblyError(
      Err.maxMessageSizeExceeded,
      `Frame of ${bytes.byteLength} bytes exceeds maxFrameSize ${maxFrameSize}`,
    );
  }
  // ably-js sends JSON as text and msgpack as binary; JSON in a binary frame is accepted too.
  const text = format === 'json' && !isBinary ? bytes.toString('utf8') : bytes;
  try {
    return parseProtocolMessage(decodeFrame(text, format, decodeLimits(maxFrameSize)));
  } catch (err) {
    if (err instanceof PayloadError) return err;
    throw err;
  }
}

/**
 * Client messages that came before the connection was established, and their bytes. Held only while
 * the credentials are verified: at most MAX_EARLY_FRAMES, and no more bytes than one frame in all, so
 * an unauthenticated client cannot make the node hold much.
 */
export class EarlyFrames {
  readonly frames: Inbound[] = [];
  private bytes = 0;

  /** Holds `inbound` (`bytes` long); false, holding nothing, once past the limits. */
  hold(inbound: Inbound, bytes: number, maxFrameSize: number): boolean {
    this.bytes += bytes;
    if (this.frames.length >= MAX_EARLY_FRAMES || this.bytes > maxFrameSize) return false;
    this.frames.push(inbound);
    return true;
  }
}
