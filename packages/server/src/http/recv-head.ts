/**
 * A strict reader for the one request head a comet client sends again and again on a kept-alive
 * socket: `GET /comet/<key>/recv?<query> HTTP/1.1` with a few ordinary headers. It lets a parked
 * socket (http/parked.ts) serve a client's next recv without handing the socket back to node:http
 * (whose connection wiring, parser, IncomingMessage and ServerResponse cost more than the rest of
 * a re-poll), and park it again at once.
 *
 * It accepts a strict subset of what node:http accepts, and nothing else: one read holding one
 * whole head that ends exactly at the end of the read (nothing pipelined behind it, no body), the
 * request line byte for byte as above, only visible ASCII, lines ended by CRLF (no bare CR or LF,
 * no folded lines), headers from a small allowlist, each at most once (so at most 12),
 * with Host present and `Connection`, if sent, `keep-alive`. Anything else (a partial head, a body
 * or its framing headers, `Origin`, `Authorization`, cookies, other methods or versions, percent
 * escapes in the key, …) is `undefined`: the caller hands the bytes to node:http untouched, which
 * answers or refuses them as it always did (test/src/unit/recv-head.test.ts holds the tables).
 */

/** A plain recv's head, as read. */
export interface RecvHead {
  /** The connection key (path segment; only unreserved characters, so it needs no decoding). */
  readonly key: string;
  /** The query string after `?` (without it); '' when there is none. */
  readonly query: string;
  /** The `Accept` header's value, if sent. */
  readonly accept: string | undefined;
}

/** The longest head read here (ably-js and the bench send ~150-300 bytes); longer goes to node:http. */
export const MAX_RECV_HEAD_BYTES = 2048;
/** The longest connection key read here. */
const MAX_KEY_LENGTH = 128;

const PREFIX = 'GET /comet/';
const RECV = '/recv';
const VERSION = ' HTTP/1.1';
const END_LENGTH = 4; // CR LF CR LF
const CR = 0x0d;
const LF = 0x0a;
const HTAB = 0x09;
const SPACE = 0x20;
const TILDE = 0x7e;

/** Header names (lower case) a plain recv may carry, each with its bit: none changes how the request is framed or answered, except Accept. */
const ALLOWED = new Map(
  [
    'host',
    'accept',
    'connection',
    'user-agent',
    'accept-encoding',
    'accept-language',
    'cache-control',
    'pragma',
    'x-ably-version',
    'x-ably-lib',
    'x-ably-agent',
    'ably-agent',
  ].map((name, i) => [name, 1 << i]),
);
const HOST = ALLOWED.get('host')!;

/** A connection key: letters, digits and `-._~!` (encke's keys; anything else goes to node:http). */
const KEY = /^[A-Za-z0-9\-._~!]+$/;
/** A query: visible ASCII except `#` (a fragment) and the space. */
const QUERY = /^[\x21\x22\x24-\x7e]*$/;
const OWS = /^[ \t]+|[ \t]+$/g;

/** The head in `bytes`, if it is a plain recv's as the module doc says; otherwise undefined. */
export function parseRecvHead(bytes: Buffer): RecvHead | undefined {
  const n = bytes.length;
  if (n > MAX_RECV_HEAD_BYTES || n < PREFIX.length + RECV.length + VERSION.length + END_LENGTH) return undefined;
  if (!plainLines(bytes)) return undefined;
  const text = bytes.toString('latin1');
  let eol = text.indexOf('\r\n');
  const target = requestTarget(text.slice(0, eol));
  if (!target) return undefined;
  // Each allowed name at most once: at most ALLOWED.size header lines.
  let seen = 0;
  let accept: string | undefined;
  // Header lines up to the blank line at the read's end (an earlier blank line has no colon).
  for (let at = eol + 2; at < n - 2; at = eol + 2) {
    eol = text.indexOf('\r\n', at);
    const colon = text.indexOf(':', at);
    if (colon <= at || colon > eol) return undefined;
    // Not allowed: any other name, a space before the colon, a folded line's leading whitespace.
    const name = text.slice(at, colon).toLowerCase();
    const bit = ALLOWED.get(name);
    if (bit === undefined || (seen & bit) !== 0) return undefined;
    seen |= bit;
    const value = text.slice(colon + 1, eol).replace(OWS, '');
    if (name === 'connection' && value.toLowerCase() !== 'keep-alive') return undefined;
    if (name === 'accept') accept = value;
  }
  return (seen & HOST) !== 0 ? { key: target.key, query: target.query, accept } : undefined;
}

/**
 * The read ends with a blank line, and every byte is visible ASCII, a space or a tab, except CRLF
 * pairs ending lines (no bare CR or LF). A blank line before the end (a body or a request
 * pipelined behind) is refused as a header line without a colon.
 */
function plainLines(b: Buffer): boolean {
  const n = b.length;
  if (b[n - 4] !== CR || b[n - 3] !== LF || b[n - 2] !== CR || b[n - 1] !== LF) return false;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if ((c >= SPACE && c <= TILDE) || c === HTAB) continue;
    if (c !== CR || b[i + 1] !== LF) return false;
    i++;
  }
  return true;
}

function requestTarget(line: string): { key: string; query: string } | undefined {
  if (!line.startsWith(PREFIX) || !line.endsWith(VERSION)) return undefined;
  const target = line.slice(PREFIX.length, line.length - VERSION.length);
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q + 1);
  if (!path.endsWith(RECV)) return undefined;
  const key = path.slice(0, path.length - RECV.length);
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || !KEY.test(key) || !QUERY.test(query)) return undefined;
  return { key, query };
}
