/**
 * A minimal keep-alive HTTP/1.1 client on one bare TCP socket, one request at a time: what a
 * long-polling subscriber needs, at a small fraction of node:http's cost per response (the
 * generator must turn 1,000 poll responses around within a few milliseconds). Understands
 * Content-Length and chunked bodies; reconnects when the server closes the connection.
 */
import { connect, type Socket } from 'node:net';

const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);
const HEADER_END = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);
const MAX_HEADER = 64 * 1024;
const REQUEST_TIMEOUT_MS = 60_000;
/** Follow-up requests sent per event-loop turn, after that turn's reads (see `FollowUps`). */
const FOLLOW_UPS_PER_TURN = 16;
const COMPACT_AT = 1024;

/**
 * When the poll loops of this process send their follow-up requests (the next poll). One generator
 * holds a thousand pollers, which in reality are a thousand processes that read their answers
 * independently: a poller's next request must not delay another poller's read. Sending every next
 * poll in the check phase after the read that answered it (`setImmediate`) was not enough: while
 * the server is still writing a fan-out's answers, each check phase wrote the re-polls of all the
 * answers read in that turn (one `write` system call each, about what reading an answer costs), and
 * the answers arriving meanwhile waited behind them; the generator fell behind the server by up to
 * a thousand re-polls' worth, so the last subscribers' receipts were stamped 7–22 ms after the server
 * had written them (S4, long polling; ~0 ms for WebSocket and streaming subscribers, which send
 * nothing back). Now each turn's check phase sends at most `FOLLOW_UPS_PER_TURN` of them, in the
 * order they were asked for, and the rest in the next turns, after those turns' reads: every
 * readable socket is read (and stamped) before more follow-ups are written, no request waits for
 * any other poller (no barrier, no timer), and once nothing arrives the turns run back to back.
 */
class FollowUps {
  private readonly waiting: (() => void)[] = [];
  private head = 0;
  private scheduled = false;

  /** Resolves when a follow-up request may go out. */
  hold(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.send);
      }
    });
  }

  private readonly send = (): void => {
    const end = Math.min(this.head + FOLLOW_UPS_PER_TURN, this.waiting.length);
    for (; this.head < end; this.head++) this.waiting[this.head]!();
    if (this.head < this.waiting.length) {
      // At most one entry per poll loop is waiting; what was sent is dropped now and then.
      if (this.head >= COMPACT_AT) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      setImmediate(this.send);
      return;
    }
    this.waiting.length = 0;
    this.head = 0;
    this.scheduled = false;
  };
}

const followUps = new FollowUps();

export interface RawAnswer {
  status: number;
  /** The whole body, the answer's own bytes (empty for a streamed one: its chunks went to `onChunk`). */
  body: Buffer;
}

interface Pending {
  resolve(answer: RawAnswer): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  /**
   * Streaming: each chunk of a chunked body as it arrives (the answer's body is then empty). The
   * chunk is a view of the shared read buffer, valid only during the call.
   */
  onChunk: ((chunk: Buffer) => void) | undefined;
}

export class RawHttp {
  private socket: Socket | null = null;
  private buf: Buffer = Buffer.alloc(0);
  private pending: Pending | null = null;
  private closeAfter = false;
  /** The status of the streamed response being read (0: none, reading a response header). */
  private streamStatus = 0;
  /** The streamed response's `onChunk` (its request's, kept here: a delivery reads the client, not the request). */
  private streamChunk: ((chunk: Buffer) => void) | undefined;
  /** Bytes read from the server so far, over every socket this client opened (headers included). */
  received = 0;

  constructor(private readonly port: number) {}

  request(
    method: 'GET' | 'POST',
    path: string,
    body?: string,
    contentType = 'application/json',
    onChunk?: (chunk: Buffer) => void,
  ): Promise<RawAnswer> {
    if (this.pending) return Promise.reject(new Error('RawHttp: one request at a time'));
    const socket = this.socket ?? this.open();
    let head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${this.port}\r\n`;
    if (body !== undefined) head += `Content-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
    socket.write(`${head}\r\n${body ?? ''}`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`${method} ${path}: timed out`)), REQUEST_TIMEOUT_MS);
      this.pending = { resolve, reject, timer, onChunk };
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private open(): Socket {
    const socket = connect({
      host: '127.0.0.1',
      port: this.port,
      noDelay: true,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number): boolean => {
          const chunk = READ_BUFFER.subarray(0, n);
          this.received += n;
          // Parsed where it was read, as raw-ws.ts does: a copy of every read (a new pooled Buffer
          // per delivery) ran the generator's V8 into a major GC every ~2 s at S7's rate, whose
          // pauses delayed the reads of HTTP stacks only. What is left over is copied (the next
          // read overwrites the shared buffer); bodies handed out are copies (answers are read later).
          // A streamed body's read with nothing left over before it is parsed where it lies: storing
          // the read's view in the client (`this.buf`) ran V8's write barrier and touched more of the
          // client per delivery than a WebSocket frame does (bench/README, `gen6`).
          if (this.buf.length === 0 && this.streamStatus !== 0) this.parseStream(chunk);
          else {
            this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
            this.parse();
          }
          if (this.buf.length > 0 && this.buf.buffer === READ_BUFFER.buffer) this.buf = Buffer.from(this.buf);
          return true;
        },
      },
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => {
      if (this.socket === socket) this.socket = null;
      this.buf = Buffer.alloc(0);
      this.streamStatus = 0;
      this.streamChunk = undefined;
      this.fail(new Error('connection closed'));
    });
    this.socket = socket;
    return socket;
  }

  private fail(err: Error): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    clearTimeout(p.timer);
    this.close();
    p.reject(err);
  }

  private parse(): void {
    if (this.streamStatus !== 0) {
      this.parseStream(this.buf);
      return;
    }
    const buf = this.buf;
    const end = buf.indexOf(HEADER_END);
    if (end < 0) {
      if (buf.length > MAX_HEADER) this.fail(new Error('response header too long'));
      return;
    }
    const header = buf.toString('latin1', 0, end).toLowerCase();
    const status = Number(header.slice(9, 12));
    const bodyStart = end + 4;
    let body: Buffer | undefined;
    let consumed = 0;
    const length = /\r\ncontent-length:\s*(\d+)/.exec(header);
    this.closeAfter = /\r\nconnection:\s*close/.test(header);
    if (length) {
      const n = Number(length[1]);
      if (buf.length - bodyStart < n) return;
      body = Buffer.from(buf.subarray(bodyStart, bodyStart + n));
      consumed = bodyStart + n;
    } else if (/\r\ntransfer-encoding:\s*chunked/.test(header)) {
      if (this.pending?.onChunk) {
        // Streaming: from here on the buffer holds body bytes only, handed over chunk by chunk.
        this.streamStatus = status;
        this.streamChunk = this.pending.onChunk;
        this.parseStream(buf.subarray(bodyStart));
        return;
      }
      const chunks: Buffer[] = [];
      let pos = bodyStart;
      for (;;) {
        const next = chunkAt(buf, pos);
        if (next < 0) return;
        if (chunkSize === 0) {
          consumed = next;
          break;
        }
        chunks.push(buf.subarray(chunkStart, chunkStart + chunkSize));
        pos = next;
      }
      body = Buffer.concat(chunks);
    } else {
      body = Buffer.alloc(0);
      consumed = bodyStart;
    }
    this.buf = consumed >= buf.length ? Buffer.alloc(0) : buf.subarray(consumed);
    this.answer(status, body);
  }

  /**
   * The body of a streamed chunked response: each complete chunk goes to `onChunk` as it arrives.
   * Per read, as the WebSocket client's frame parser (raw-ws.ts): the size line read in JavaScript,
   * one view per chunk handed out, nothing else made (bench/README, `cstrm2`).
   */
  private parseStream(buf: Buffer): void {
    const onChunk = this.streamChunk;
    let pos = 0;
    for (;;) {
      const next = chunkAt(buf, pos);
      if (next < 0) {
        const rest = pos === 0 ? buf : pos >= buf.length ? EMPTY : buf.subarray(pos);
        if (this.buf !== rest) this.buf = rest;
        return;
      }
      pos = next;
      if (chunkSize === 0) break;
      const start = chunkStart;
      onChunk?.(buf.subarray(start, start + chunkSize));
    }
    const status = this.streamStatus;
    this.streamStatus = 0;
    this.streamChunk = undefined;
    this.buf = pos >= buf.length ? Buffer.alloc(0) : buf.subarray(pos);
    this.answer(status, Buffer.alloc(0));
  }

  private answer(status: number, body: Buffer): void {
    const p = this.pending;
    this.pending = null;
    if (this.closeAfter) this.close();
    if (p) {
      clearTimeout(p.timer);
      p.resolve({ status, body });
    }
    if (this.buf.length > 0 && this.pending) this.parse();
  }
}

/** Where the chunk `chunkAt` found last starts, and its size (no object per chunk). */
let chunkStart = 0;
let chunkSize = 0;

/**
 * The chunk whose size line starts at `pos`: sets `chunkStart` and `chunkSize` and returns where the
 * next chunk begins; -1 until the chunk is complete. The size line is read here, byte by byte (it is
 * a few bytes long): `Buffer.indexOf` for its CRLF was a call into C++ per chunk, and twice per read.
 */
function chunkAt(buf: Buffer, pos: number): number {
  const n = buf.length;
  let size = 0;
  let i = pos;
  for (; i < n; i++) {
    const c = buf[i]!;
    const digit = c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
    if (digit < 0 || digit > 15) break; // chunk extensions (;…) end the size
    size = size * 16 + digit;
  }
  while (i + 1 < n && (buf[i] !== 0x0d || buf[i + 1] !== 0x0a)) i++;
  if (i + 1 >= n) return -1;
  const start = i + 2;
  // The last chunk (size 0) ends with an empty trailer line: "0\r\n\r\n".
  const end = start + size + 2;
  if (n < end) return -1;
  chunkStart = start;
  chunkSize = size;
  return end;
}

/**
 * A long-polling subscriber's connections and request loop: one poll at a time on `poller`,
 * set-up and goodbye requests on `sender` (closed while live, so that 10,000 idle pollers hold
 * 10,000 sockets, not 20,000).
 */
export class PollLoop {
  readonly poller: RawHttp;
  readonly sender: RawHttp;
  private state: 'opening' | 'live' | 'closed' = 'opening';

  constructor(
    port: number,
    private readonly lost: () => void,
  ) {
    this.poller = new RawHttp(port);
    this.sender = new RawHttp(port);
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /**
   * Runs `poll` until closed; a failure rejects set-up through `fail`, or counts as a lost subscriber
   * once live. Each next poll is sent once the generator has read what is arriving (`FollowUps`): a
   * thousand pollers in one process must not delay each other's reads with their re-polls, as
   * separate browsers would not. Every polling and streaming stack runs this same loop.
   */
  start(poll: () => Promise<void>, fail: (err: Error) => void): void {
    const loop = async (): Promise<void> => {
      while (!this.closed) {
        await poll();
        await followUps.hold();
      }
    };
    loop().catch((err: unknown) => {
      const wasLive = this.state === 'live';
      this.state = 'closed';
      fail(err instanceof Error ? err : new Error(String(err)));
      if (wasLive) this.lost();
    });
  }

  /** Set-up is done: from now on a failure is a lost subscriber; `goodbye` is sent on close. */
  live(goodbye: (sender: RawHttp) => Promise<unknown>): { close(): void } {
    this.sender.close();
    if (this.state === 'opening') this.state = 'live';
    return {
      close: () => {
        this.state = 'closed';
        this.poller.close();
        goodbye(this.sender).then(
          () => this.sender.close(),
          () => undefined,
        );
      },
    };
  }
}
