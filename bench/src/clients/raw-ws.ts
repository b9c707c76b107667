/**
 * A minimal WebSocket client on a bare TCP socket, so that one generator process can hold
 * thousands of connections and read hundreds of thousands of frames a second: no per-frame
 * objects, no events per frame, payloads handed over as views of the received chunk.
 * Server frames are unmasked (RFC 6455 §5.1); client frames are masked with a per-connection key.
 *
 * A publisher's connection stamps on send (`stampOnSend`): the send time in a payload's marker
 * (payload.ts) is written when the frame's bytes are complete, just before the socket write, so
 * that the latency measured starts at the same point for every stack, whatever its client encodes
 * (a template string, JSON.stringify, a JavaScript msgpack encoder: bench/README, `mpack`).
 */
import { randomFillSync } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { nowUs } from '../payload.js';

const OP_CONT = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;
const HANDSHAKE_LIMIT = 16 * 1024;
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);
/** The send-time marker and its digits, as payload.ts writes them (`~BM` + 13 digits of µs). */
const MARKER = Buffer.from('~BM', 'latin1');
const STAMP_DIGITS = 13;
const ZERO = 48;
/**
 * Random bytes for the upgrade keys and the masks, drawn from a pool filled 16 KB at a time: a
 * `randomBytes` call per key and per mask was ~25k instructions an open (two calls into OpenSSL,
 * as much as the rest of the client's upgrade), for every WebSocket stack alike (bench/README, `gen6`).
 */
const RANDOM = Buffer.allocUnsafe(16 * 1024);
let randomAt = RANDOM.length;

/** `n` (≤ 64) fresh random bytes: a view of the pool, valid until the next call (copy to keep). */
function randomView(n: number): Buffer {
  if (randomAt + n > RANDOM.length) {
    randomFillSync(RANDOM);
    randomAt = 0;
  }
  const view = RANDOM.subarray(randomAt, randomAt + n);
  randomAt += n;
  return view;
}

/**
 * Writes the current time over the digits of the first send-time marker in `frame` from `from`
 * (the digits keep their width: the frame's length does not change). No marker: nothing.
 */
function stampNow(frame: Buffer, from: number): void {
  const at = frame.indexOf(MARKER, from);
  if (at < 0 || at + MARKER.length + STAMP_DIGITS > frame.length) return;
  let t = nowUs();
  for (let i = at + MARKER.length + STAMP_DIGITS - 1; i >= at + MARKER.length; i--) {
    frame[i] = ZERO + (t % 10);
    t = Math.floor(t / 10);
  }
}

export interface WsHandler {
  /** A data frame's payload (a view: copy it to keep it). */
  onMessage(payload: Buffer, binary: boolean): void;
  onClose(): void;
}

export class RawWs {
  private readonly socket: Socket;
  private pending: Buffer | null = null;
  private open = false;
  private closed = false;
  private readonly mask = Buffer.from(randomView(4));
  private lastBinary = false;
  /** Data frames get the send time written into their marker as they are sent (`stampOnSend`). */
  private stamping = false;
  /** Bytes read from the socket so far (the upgrade's answer included). */
  received = 0;

  private constructor(
    socket: Socket,
    private readonly handler: WsHandler,
  ) {
    this.socket = socket;
  }

  /** Connects and completes the upgrade; resolves once the server answered 101. */
  static connect(port: number, path: string, handler: WsHandler): Promise<RawWs> {
    return new Promise((resolve, reject) => {
      let ws: RawWs | undefined;
      let head: Buffer = Buffer.alloc(0);
      let upgraded = false;
      const fail = (err: Error): void => {
        socket.destroy();
        reject(err);
      };
      // Reads land in one shared buffer (no allocation and no stream machinery per read); the
      // parser copies only what it must keep across reads.
      const socket = connect({
        host: '127.0.0.1',
        port,
        noDelay: true,
        onread: {
          buffer: READ_BUFFER,
          callback: (n: number): boolean => {
            const chunk = READ_BUFFER.subarray(0, n);
            ws!.received += n;
            if (upgraded) ws!.onData(chunk);
            else onHandshake(Buffer.from(chunk));
            return true;
          },
        },
      });
      ws = new RawWs(socket, handler);
      const onHandshake = (chunk: Buffer): void => {
        head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > HANDSHAKE_LIMIT) fail(new Error('handshake too long'));
          return;
        }
        const status = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
        if (!/^HTTP\/1\.1 101/.test(status)) return fail(new Error(`upgrade refused: ${status}`));
        socket.off('error', fail);
        socket.on('error', () => socket.destroy());
        socket.on('close', () => ws!.onSocketClose());
        upgraded = true;
        ws!.open = true;
        resolve(ws!);
        const rest = head.subarray(end + 4);
        if (rest.length > 0) ws!.onData(rest);
      };
      socket.once('error', fail);
      socket.once('close', () => {
        if (!upgraded) reject(new Error('closed during the upgrade'));
      });
      socket.once('connect', () => {
        const key = randomView(16).toString('base64');
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
    });
  }

  get isOpen(): boolean {
    return this.open && !this.closed;
  }

  /** Bytes queued in this socket and not yet taken by the kernel. */
  get buffered(): number {
    return this.socket.writableLength;
  }

  /**
   * From now on each data frame sent has the send time written into its payload's marker (if it has
   * one) right before it is masked and written: the publisher's stamp does not include the time its
   * client took to encode the message. Not for S8's documents, which are checked byte for byte.
   */
  stampOnSend(): void {
    this.stamping = true;
  }

  sendText(text: string): void {
    this.sendFrame(OP_TEXT, Buffer.from(text, 'utf8'));
  }

  sendBinary(bytes: Uint8Array): void {
    this.sendFrame(OP_BINARY, bytes);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
  }

  private sendFrame(opcode: number, payload: Uint8Array): void {
    if (!this.isOpen) return;
    const length = payload.byteLength;
    const headerLength = (length < 126 ? 2 : length < 65536 ? 4 : 10) + 4;
    const frame = Buffer.allocUnsafe(headerLength + length);
    frame[0] = 0x80 | opcode;
    if (length < 126) {
      frame[1] = 0x80 | length;
    } else if (length < 65536) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
      frame.writeUInt32BE(length >>> 0, 6);
    }
    const m = this.mask;
    frame.set(m, headerLength - 4);
    // The payload is copied, stamped when asked (data frames only), then masked in place: the same
    // steps for every frame of every stack.
    frame.set(payload, headerLength);
    if (this.stamping && opcode !== OP_PONG) stampNow(frame, headerLength);
    for (let i = headerLength; i < frame.length; i++) frame[i] = frame[i]! ^ m[(i - headerLength) & 3]!;
    this.socket.write(frame);
  }

  private onData(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let pos = 0;
    const end = buf.length;
    while (end - pos >= 2) {
      const b0 = buf[pos]!;
      let length = buf[pos + 1]! & 0x7f;
      let header = 2;
      if (length === 126) {
        if (end - pos < 4) break;
        length = buf.readUInt16BE(pos + 2);
        header = 4;
      } else if (length === 127) {
        if (end - pos < 10) break;
        length = buf.readUInt32BE(pos + 2) * 2 ** 32 + buf.readUInt32BE(pos + 6);
        header = 10;
      }
      if (end - pos < header + length) break;
      const payload = buf.subarray(pos + header, pos + header + length);
      pos += header + length;
      this.onFrame(b0 & 0x0f, payload);
      if (this.closed) return;
    }
    if (pos < end) this.pending = Buffer.from(buf.subarray(pos));
  }

  private onFrame(opcode: number, payload: Buffer): void {
    switch (opcode) {
      case OP_TEXT:
      case OP_BINARY:
        this.lastBinary = opcode === OP_BINARY;
        this.handler.onMessage(payload, this.lastBinary);
        return;
      case OP_CONT:
        this.handler.onMessage(payload, this.lastBinary);
        return;
      case OP_PING:
        this.sendFrame(OP_PONG, payload);
        return;
      case OP_CLOSE:
        this.close();
        this.onSocketClose();
        return;
      default:
        return;
    }
  }

  private onSocketClose(): void {
    if (!this.open) return;
    this.open = false;
    this.closed = true;
    this.handler.onClose();
  }
}
