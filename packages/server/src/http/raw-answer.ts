/**
 * The bytes of HTTP/1.1 responses written raw to a parked socket (http/parked.ts): the head
 * node:http would have written (status line, the headers the response carries, Date, keep-alive)
 * and, for a whole answer, the body, as ONE Buffer so that an answer is one socket write (a head
 * and a body written as two strings go through node's cork/writev path and are encoded per write:
 * more than half of a long-poll fan-out's time went there).
 *
 * A long-poll fan-out answers every poller with the same frame: `SharedAnswer` makes those bytes
 * once and hands the same Buffer to every parked poll whose per-connection header lines (CORS),
 * Date second and keep-alive timeout are the same, as a WebSocket fan-out shares one frame's bytes.
 */
import { STATUS_CODES } from 'node:http';

/** Milliseconds in a second: the Date header's resolution. */
const SECOND_MS = 1000;

let cachedDate: string | undefined = undefined;

function forgetDate(): void {
  cachedDate = undefined;
}

/** The Date header's value, made at most once a second (node:http caches its own the same way). */
export function httpDate(): string {
  if (cachedDate === undefined) {
    const now = new Date();
    cachedDate = now.toUTCString();
    // Until the next second starts; unref'd: the cache never keeps a process alive.
    setTimeout(forgetDate, SECOND_MS - now.getMilliseconds()).unref();
  }
  return cachedDate;
}

/**
 * A response head: the status line, `lines` (header lines set on the response before it was
 * parked, each ending in CRLF), the flat `[name, value, …]` `headers`, Date, keep-alive and
 * `framing` (a `Transfer-Encoding` line, or nothing when `headers` carry a Content-Length).
 */
export function responseHead(
  status: number,
  lines: string,
  headers: readonly string[],
  keepAliveMs: number,
  framing: string,
): string {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n${lines}`;
  for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  head += `Date: ${httpDate()}\r\nConnection: keep-alive\r\n`;
  // As node:http writes it (whole seconds, also when that is 0).
  if (keepAliveMs > 0) head += `Keep-Alive: timeout=${Math.floor(keepAliveMs / SECOND_MS)}\r\n`;
  return `${head}${framing}\r\n`;
}

/** `head` (latin1) then `body` in one Buffer. */
export function headAndBody(head: string, body: string | Uint8Array): Buffer {
  const bodyLength = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  const bytes = Buffer.allocUnsafe(head.length + bodyLength);
  bytes.write(head, 0, 'latin1');
  if (typeof body === 'string') bytes.write(body, head.length, 'utf8');
  else bytes.set(body, head.length);
  return bytes;
}

/**
 * A whole answer several parked responses send (a frame fanned out to long polls). Its bytes are
 * made for the first response and reused while the next ones have the same per-connection lines,
 * Date and keep-alive timeout (one slot: pollers of one origin share it; a different origin, or
 * the next second, remakes it).
 */
export class SharedAnswer {
  private made: Buffer | undefined = undefined;
  private madeLines = '';
  private madeDate = '';
  private madeKeepAliveMs = 0;

  constructor(
    readonly status: number,
    /** Flat `[name, value, …]`, Content-Length included. */
    readonly headers: readonly string[],
    readonly body: Buffer,
  ) {}

  /** The whole response for a parked response whose unsent header lines are `lines`. */
  bytes(lines: string, keepAliveMs: number): Buffer {
    const date = httpDate();
    if (
      this.made === undefined ||
      lines !== this.madeLines ||
      date !== this.madeDate ||
      keepAliveMs !== this.madeKeepAliveMs
    ) {
      this.made = headAndBody(responseHead(this.status, lines, this.headers, keepAliveMs, ''), this.body);
      this.madeLines = lines;
      this.madeDate = date;
      this.madeKeepAliveMs = keepAliveMs;
    }
    return this.made;
  }
}
