/**
 * The WebSocket handshake encke makes itself (transports/ws-handshake.ts, issue 19 open rate) against
 * `ws`'s own `handleUpgrade`, configured as the node configures it: for random request heads
 * (fast-check, fixed seed), whenever encke takes a handshake, `ws` accepts it too and writes the very
 * same 101 bytes; and on the handshakes encke means to take (GET, `Upgrade: websocket`, version 13 or
 * 8 written plainly, no subprotocol offer), it takes every one `ws` accepts. So encke accepts a
 * subset of what `ws` accepts, and everything else is answered by `ws` itself.
 */
import assert from 'node:assert/strict';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { WebSocketServer } from 'ws';
import { switchingProtocols } from '@encke/server/internal';

const SEED = 19501;
const GOOD_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

interface Head {
  method: string;
  headers: Record<string, string>;
}

function request(head: Head): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.method = head.method;
  req.headers = head.headers;
  return req;
}

/** A socket that keeps what is written to it. */
class Sink extends Duplex {
  written = '';
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.written += chunk.toString('latin1');
    done();
  }
}

/** What `ws` (as the node configures it) does with `head`: the bytes it wrote and whether it upgraded. */
function wsAnswer(head: Head): { accepted: boolean; written: string } {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
  const sink = new Sink();
  let accepted = false;
  wss.handleUpgrade(request(head), sink, Buffer.alloc(0), (ws) => {
    accepted = true;
    ws.terminate();
  });
  return { accepted, written: sink.written };
}

const base64Char = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
const key = fc.oneof(
  { weight: 6, arbitrary: fc.constant(GOOD_KEY) },
  { weight: 6, arbitrary: fc.array(base64Char, { minLength: 22, maxLength: 22 }).map((cs) => `${cs.join('')}==`) },
  fc.array(base64Char, { minLength: 20, maxLength: 24 }).map((cs) => cs.join('')),
  fc.array(base64Char, { minLength: 21, maxLength: 23 }).map((cs) => `${cs.join('')}==`),
  fc.constantFrom(`${GOOD_KEY}, ${GOOD_KEY}`, ` ${GOOD_KEY}`, GOOD_KEY.replace('Q', '-'), `${GOOD_KEY}=`, ''),
  fc.string({ maxLength: 30 }),
  fc.constant(undefined),
);
/** Mostly `usual` (so that most heads get past every check but one), else any of `others`, or absent. */
const field = <T>(usual: fc.Arbitrary<T>, others: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof(
    { weight: 6, arbitrary: usual },
    { weight: 1, arbitrary: others },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
/** Mostly absent, else one of `values`. */
const rare = (values: string[]): fc.Arbitrary<string | undefined> =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...values) });
const head: fc.Arbitrary<Head> = fc
  .record({
    method: fc.oneof({ weight: 6, arbitrary: fc.constant('GET') }, fc.constantFrom('POST', 'get', 'HEAD', 'PUT')),
    upgrade: field(
      fc.constantFrom('websocket', 'WebSocket', 'WEBSOCKET'),
      fc.constantFrom('websocket2', 'h2c', 'websocket, h2c', 'web socket', ''),
    ),
    key,
    version: field(
      fc.constantFrom('13', '8'),
      fc.oneof(
        fc.constantFrom('12', '013', '13.0', '0xd', '1.3e1', '', '9', '13, 8', '08', '+13'),
        fc.string({ maxLength: 4 }),
      ),
    ),
    protocol: rare(['chat', 'a, b', '', 'bad protocol', 'chat, chat', 'x,', '{}']),
    extensions: rare(['permessage-deflate', 'permessage-deflate; client_max_window_bits', ';;=x']),
  })
  .map(({ method, upgrade, key, version, protocol, extensions }) => {
    const headers: Record<string, string> = { host: '127.0.0.1', connection: 'Upgrade' };
    if (upgrade !== undefined) headers.upgrade = upgrade;
    if (key !== undefined) headers['sec-websocket-key'] = key;
    if (version !== undefined) headers['sec-websocket-version'] = version;
    if (protocol !== undefined) headers['sec-websocket-protocol'] = protocol;
    if (extensions !== undefined) headers['sec-websocket-extensions'] = extensions;
    return { method, headers };
  });

/** The handshakes encke means to make itself (any other goes to `ws`). */
function meantForEncke(h: Head): boolean {
  const v = h.headers['sec-websocket-version'];
  return h.method === 'GET' && (v === '13' || v === '8') && h.headers['sec-websocket-protocol'] === undefined;
}

describe("encke's WebSocket handshake against ws's handleUpgrade", () => {
  it("takes only handshakes ws accepts, with ws's exact 101, and every one ws accepts that it means to take", () => {
    let taken = 0;
    let refused = 0;
    fc.assert(
      fc.property(head, (h) => {
        const ours = switchingProtocols(request(h));
        const theirs = wsAnswer(h);
        if (ours !== undefined) {
          taken++;
          assert.ok(theirs.accepted, `ws refused what encke took: ${JSON.stringify(h)}`);
          assert.equal(ours, theirs.written);
        } else if (!theirs.accepted) refused++;
        if (theirs.accepted && meantForEncke(h)) assert.equal(ours, theirs.written, JSON.stringify(h));
      }),
      { seed: SEED, numRuns: 4000 },
    );
    // The generator reaches both sides of every check.
    assert.ok(taken > 200, `taken ${taken}`);
    assert.ok(refused > 1000, `refused ${refused}`);
  });

  it('takes what ably-js sends, and leaves a subprotocol offer to ws', () => {
    const ably = {
      method: 'GET',
      headers: {
        upgrade: 'websocket',
        connection: 'Upgrade',
        'sec-websocket-key': GOOD_KEY,
        'sec-websocket-version': '13',
      },
    };
    assert.equal(
      switchingProtocols(request(ably)),
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n',
    );
    const chat = { method: 'GET', headers: { ...ably.headers, 'sec-websocket-protocol': 'chat' } };
    assert.equal(switchingProtocols(request(chat)), undefined);
    assert.ok(wsAnswer(chat).written.includes('Sec-WebSocket-Protocol: chat\r\n'));
  });
});
