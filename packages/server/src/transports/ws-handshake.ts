/**
 * The WebSocket opening handshake (RFC 6455 §4.2) of the usual upgrade, made here instead of by `ws`'s
 * `handleUpgrade`, so that the 101 response and CONNECTED leave in one socket write (bench S3: a corked
 * 101 and a frame went out through `Writable.uncork` → `_writev`), and the accept digest is made
 * without a Hash object (`crypto.hash`).
 *
 * A SECURITY BOUNDARY: only a request that every check of `ws`'s `handleUpgrade` (ws 8, as this
 * server configures it: no path, no verifyClient, no permessage-deflate, no handleProtocols) accepts
 * is taken here: GET; `Upgrade: websocket` in any case; a Sec-WebSocket-Key of 16 bytes in base64;
 * Sec-WebSocket-Version exactly `13` or `8`; no Sec-WebSocket-Protocol offer; each line read here
 * (those three, Origin, Referer) at most once; a socket still readable and writable. Anything
 * else, accepted or refused by `ws` (a subprotocol, a version written as `013`, a bad key, a line
 * twice), goes to `handleUpgrade`, which answers it as it always did. Extension offers are ignored by
 * `ws` too when permessage-deflate is off. The 101's bytes are `ws`'s own (tests ws-handshake: a
 * table of handshakes over TCP against a plain `ws` server; unit/ws-handshake: a property against
 * `handleUpgrade` on requests node:http parsed).
 */
import * as crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ServerOptions } from 'ws';

/** What `ws`'s server hands a new WebSocket's `setSocket` (from its options, defaults filled in). */
export type SocketOptions = Pick<
  ServerOptions,
  'allowSynchronousEvents' | 'maxBufferedChunks' | 'maxFragments' | 'maxPayload' | 'skipUTF8Validation'
>;

/** RFC 6455's GUID, appended to the client's key for the accept digest. */
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** `ws`'s own check of a key: 16 bytes in base64 (24 characters, two of padding). */
const KEY_SHAPE = /^[+/0-9A-Za-z]{22}==$/;

/**
 * SHA-1 of the key and GUID in base64, in one call: `crypto.hash` (Node 20.12 and later) makes no Hash
 * object (`ws`'s `createHash(…).update(…).digest(…)` does); older Node 20 releases fall back to it.
 */
const acceptDigest: (keyAndGuid: string) => string =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('sha1', data, 'base64')
    : (data) => crypto.createHash('sha1').update(data).digest('base64');

/**
 * At most this many raw header entries (names and values) are read here; a longer head goes to `ws`.
 * Well under node's own limit (maxHeadersCount), so every line read here is one node counts too.
 */
const MAX_RAW_ENTRIES = 64;

/** The usual handshake of a request: its 101 response, and the lines its origin is read from. */
export interface Handshake {
  readonly response: string;
  /** The request's one Origin line, if any. */
  readonly origin: string | undefined;
  /** The request's one Referer line, if any. */
  readonly referer: string | undefined;
}

/**
 * The usual handshake of `req`, or undefined if it is not one this module takes (`ws`'s
 * `handleUpgrade` answers it instead, whatever it is). Read from the request's raw header lines, not
 * from `req.headers` (which node builds on first read: ~15k instructions an open, bench S3): a header
 * read here that comes twice (which node would join, or keep the first of) sends the request to `ws`,
 * so every value read is the one `req.headers` would give. The socket's state is the caller's to check.
 */
export function usualHandshake(req: IncomingMessage): Handshake | undefined {
  const raw = req.rawHeaders;
  if (req.method !== 'GET' || raw.length > MAX_RAW_ENTRIES) return undefined;
  let upgrade: string | undefined;
  let key: string | undefined;
  let version: string | undefined;
  let origin: string | undefined;
  let referer: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    // Only names of these lengths are lower-cased and compared (node lower-cases them as well).
    switch (name.length) {
      case 6: // origin
        if (name.toLowerCase() !== 'origin') break;
        if (origin !== undefined) return undefined;
        origin = value;
        break;
      case 7: {
        const lower = name.toLowerCase();
        if (lower === 'upgrade') {
          if (upgrade !== undefined) return undefined;
          upgrade = value;
        } else if (lower === 'referer') {
          if (referer !== undefined) return undefined;
          referer = value;
        }
        break;
      }
      case 17: // sec-websocket-key
        if (name.toLowerCase() !== 'sec-websocket-key') break;
        if (key !== undefined) return undefined;
        key = value;
        break;
      case 21: // sec-websocket-version
        if (name.toLowerCase() !== 'sec-websocket-version') break;
        if (version !== undefined) return undefined;
        version = value;
        break;
      case 22: // sec-websocket-protocol: a subprotocol offer is `ws`'s to answer
        if (name.toLowerCase() === 'sec-websocket-protocol') return undefined;
    }
  }
  const response = switchingProtocols(upgrade, key, version);
  return response === undefined ? undefined : { response, origin, referer };
}

/** `ws`'s checks of the three lines, and its 101 response (its lines, joined as it joins them). */
function switchingProtocols(
  upgrade: string | undefined,
  key: string | undefined,
  version: string | undefined,
): string | undefined {
  if (upgrade === undefined || upgrade.toLowerCase() !== 'websocket') return undefined;
  if (version !== '13' && version !== '8') return undefined;
  if (key === undefined || !KEY_SHAPE.test(key)) return undefined;
  return (
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' +
    acceptDigest(key + WS_GUID) +
    '\r\n\r\n'
  );
}

/**
 * The 101 response of the upgrade being accepted, held from the handshake until its transport writes
 * its first frame within the upgrade (CONNECTED or ERROR), so that both go in one write. One slot for
 * the node, not a field in every transport (bench S3: idle memory per connection): an upgrade is
 * accepted synchronously, one at a time, and what its open did not write goes out before it returns
 * (WebSocketTransport.releaseHandshake).
 */
let heldResponse: string | undefined;

export function holdResponse(response: string): void {
  heldResponse = response;
}

function takeResponse(): string {
  const response = heldResponse;
  if (response === undefined) throw new Error('no 101 response is held');
  heldResponse = undefined;
  return response;
}

/** Writes the held 101 response to `socket`. */
export function writeResponse(socket: Duplex): void {
  socket.write(takeResponse(), 'latin1');
}

/** The held 101 response and the first frame (`wire`, its size returned): one write for a text frame (latin1, one char a byte). */
export function writeResponseWith(socket: Duplex, wire: Buffer | string): number {
  const response = takeResponse();
  if (typeof wire === 'string') {
    socket.write(response + wire, 'latin1');
    return wire.length;
  }
  socket.cork();
  socket.write(response, 'latin1');
  socket.write(wire);
  socket.uncork();
  return wire.length;
}
