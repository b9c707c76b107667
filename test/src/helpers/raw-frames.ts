/**
 * A WebSocket client over a plain TCP socket that writes hand-made frames (any bit, length form, mask,
 * fragment, split across writes at any byte) and reads the server's frames: protocol messages (into
 * its Inbox), pongs, pings and the close frame's code. For tests of how the server reads frames
 * (ws-fast-read.test.ts).
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { decodeFrame, encodeProtocolMessage, type Format, type ProtocolMessage } from '@encke/protocol';
import { Inbox } from './inbox.js';
import { messageOf } from './json.js';

export const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export interface FrameShape {
  /** The FIN bit (default set). */
  fin?: boolean;
  /** RSV1-3 as a number 0-7 (default 0). */
  rsv?: number;
  /** Masked (default), with `mask` or 4 random bytes. */
  masked?: boolean;
  mask?: Buffer;
  /** The length's form (default the shortest). */
  form?: 7 | 16 | 64;
  /** The length the header declares, if not the payload's (a header of a frame never sent whole). */
  declared?: number;
}

/** One frame's bytes, as a client would send it. */
export function frame(opcode: number, payload: Buffer, shape: FrameShape = {}): Buffer {
  const n = shape.declared ?? payload.length;
  const form = shape.form ?? (n < 126 ? 7 : n < 65536 ? 16 : 64);
  const head = form === 7 ? 2 : form === 16 ? 4 : 10;
  const masked = shape.masked ?? true;
  const out = Buffer.alloc(head + (masked ? 4 : 0) + payload.length);
  out[0] = ((shape.fin ?? true) ? 0x80 : 0) | ((shape.rsv ?? 0) << 4) | opcode;
  const maskBit = masked ? 0x80 : 0;
  if (form === 7) out[1] = maskBit | n;
  else if (form === 16) {
    out[1] = maskBit | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = maskBit | 127;
    out.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
  if (!masked) {
    payload.copy(out, head);
    return out;
  }
  const mask = shape.mask ?? randomBytes(4);
  mask.copy(out, head);
  for (let i = 0; i < payload.length; i++) out[head + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

/** A protocol message's frame in `format` (text for JSON, binary for msgpack). */
export function messageFrame(pm: ProtocolMessage, format: Format, shape: FrameShape = {}): Buffer {
  const encoded = encodeProtocolMessage(pm, format);
  const payload = typeof encoded === 'string' ? Buffer.from(encoded, 'utf8') : Buffer.from(encoded);
  return frame(format === 'json' ? OP.text : OP.binary, payload, shape);
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class FrameClient extends Inbox {
  /** The code of the server's close frame (1005 if it had none). */
  closeCode: number | undefined;
  /** The payloads of the server's pongs, in order. */
  readonly pongs: Buffer[] = [];
  /** Frames the server sent that are not protocol messages (text/binary a plain `ws` server echoes). */
  readonly others: Buffer[] = [];
  private pending = Buffer.alloc(0);
  private readonly ended: Promise<void>;

  private constructor(
    private readonly socket: net.Socket,
    readonly format: Format | null,
  ) {
    super();
    this.ended = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('close', () => this.markClosed());
    socket.on('error', () => {});
  }

  /** Upgrades a TCP connection to `port` on `path`; `format` null: a server that sends no protocol messages. */
  static open(port: number, path: string, format: Format | null): Promise<FrameClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.setNoDelay(true);
      const client = new FrameClient(socket, format);
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        if (!head.subarray(0, end).toString('latin1').startsWith('HTTP/1.1 101')) {
          reject(new Error(`no upgrade: ${head.toString('latin1')}`));
          return;
        }
        socket.on('data', (more: Buffer) => client.read(more));
        client.read(head.subarray(end + 4));
        resolve(client);
      };
      socket.on('data', onData);
      socket.once('error', reject);
      const key = randomBytes(16).toString('base64');
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
  }

  /** Writes `bytes` in one write. */
  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Writes `bytes` in pieces cut at `cuts` (ascending offsets), a few ms apart so that each is its own read. */
  async sendInPieces(bytes: Buffer, cuts: readonly number[]): Promise<void> {
    let from = 0;
    for (const cut of [...cuts, bytes.length]) {
      if (cut <= from) continue;
      this.socket.write(bytes.subarray(from, cut));
      from = cut;
      await pause(3);
    }
  }

  /** Waits until `done()` holds (checked as frames come), or throws after `timeoutMs`. */
  async until(done: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await pause(5);
    }
  }

  /** Waits for the socket to close; the server's close code. */
  async closedWith(timeoutMs = 5000): Promise<number | undefined> {
    await Promise.race([this.ended, pause(timeoutMs)]);
    if (!this.closed) throw new Error(`not closed within ${timeoutMs} ms`);
    return this.closeCode;
  }

  close(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      if (buf.length < 2) break;
      let length = buf[1]! & 0x7f;
      let head = 2;
      if (length === 126) {
        if (buf.length < 4) break;
        length = buf.readUInt16BE(2);
        head = 4;
      } else if (length === 127) {
        if (buf.length < 10) break;
        length = Number(buf.readBigUInt64BE(2));
        head = 10;
      }
      if (buf.length < head + length) break;
      this.frameRead(buf[0]! & 0x0f, buf.subarray(head, head + length));
      buf = buf.subarray(head + length);
    }
    this.pending = Buffer.from(buf);
  }

  private frameRead(opcode: number, payload: Buffer): void {
    if (opcode === OP.pong) this.pongs.push(Buffer.from(payload));
    else if (opcode === OP.close) {
      this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      // The closing handshake's answer, then the socket is done.
      this.socket.end(frame(OP.close, payload.subarray(0, 2)));
    } else if (opcode === OP.text || opcode === OP.binary) {
      if (this.format === null) this.others.push(Buffer.from(payload));
      else {
        const data = opcode === OP.text || this.format === 'json' ? payload.toString('utf8') : new Uint8Array(payload);
        this.push(messageOf(decodeFrame(data, this.format)));
      }
    }
  }
}
