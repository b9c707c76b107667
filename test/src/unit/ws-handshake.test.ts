/**
 * The WebSocket handshake encke makes itself (transports/ws-handshake.ts, issue 19 open rate) against
 * `ws`'s own `handleUpgrade`, configured as the node configures it. Random request heads (fast-check,
 * fixed seed: header names in any case, the handshake's lines missing, bad or twice) are parsed by
 * node:http for real; on each request node hands over, whenever encke takes the handshake, `ws`
 * accepts it too and writes the very same 101 bytes, and the Origin and Referer encke read are the
 * ones `req.headers` gives; and on the heads encke means to take (GET, version 13 or 8 written
 * plainly, no subprotocol offer, each of its lines once), it takes every one `ws` accepts. So encke
 * accepts a subset of what `ws` accepts, and everything else is answered by `ws` itself.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { WebSocketServer } from 'ws';
import { usualHandshake } from '@encke/server/internal';

const SEED = 19501;
const GOOD_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** A socket that keeps what is written to it. */
class Sink extends Duplex {
  written = '';
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.written += chunk.toString('latin1');
    done();
  }
}

/** What `ws` (as the node configures it) does with `req`: the bytes it wrote and whether it upgraded. */
function wsAnswer(req: IncomingMessage): { accepted: boolean; written: string } {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
  const sink = new Sink();
  let accepted = false;
  wss.handleUpgrade(req, sink, Buffer.alloc(0), (ws) => {
    accepted = true;
    ws.terminate();
  });
  return { accepted, written: sink.written };
}

const base64Char = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
/** Visible ASCII and spaces: what a header value may hold (node:http refuses the rest before any upgrade). */
const text = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });
const keyValue = fc.oneof(
  { weight: 6, arbitrary: fc.constant(GOOD_KEY) },
  { weight: 6, arbitrary: fc.array(base64Char, { minLength: 22, maxLength: 22 }).map((cs) => `${cs.join('')}==`) },
  fc.array(base64Char, { minLength: 20, maxLength: 24 }).map((cs) => cs.join('')),
  fc.array(base64Char, { minLength: 21, maxLength: 23 }).map((cs) => `${cs.join('')}==`),
  fc.constantFrom(GOOD_KEY.replace('Q', '-'), `${GOOD_KEY}=`, ''),
  text(30),
);
/** Mostly `usual`, else one of `others`. */
const mostly = (usual: fc.Arbitrary<string>, others: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.oneof({ weight: 6, arbitrary: usual }, { weight: 1, arbitrary: others });
const upgradeValue = mostly(
  fc.constantFrom('websocket', 'WebSocket', 'WEBSOCKET'),
  fc.constantFrom('websocket2', 'h2c', 'websocket, h2c', 'web socket', ''),
);
const versionValue = mostly(
  fc.constantFrom('13', '8'),
  fc.oneof(fc.constantFrom('12', '013', '13.0', '0xd', '1.3e1', '', '9', '13, 8', '08', '+13'), text(4)),
);
const originValue = fc.constantFrom('https://a.example', 'HTTPS://B.example', 'null', '', 'x');
const refererValue = fc.constantFrom('https://a.example/page', 'not a url', '', 'https://c.example:8443/');
/** A header name in some case: as written, lower, upper, or mixed at random. */
const named = (name: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constant(name),
    fc.constant(name.toLowerCase()),
    fc.constant(name.toUpperCase()),
    fc
      .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
      .map((up) => [...name].map((c, i) => (up[i] ? c.toUpperCase() : c.toLowerCase())).join('')),
  );
/** The lines of one header: mostly `usual` times (0 or 1), sometimes twice. */
const lines = (name: string, value: fc.Arbitrary<string>, usual: 0 | 1): fc.Arbitrary<string[]> =>
  fc
    .oneof({ weight: 8, arbitrary: fc.constant(usual) }, fc.constantFrom(0, 1, 2))
    .chain((n) => fc.array(fc.tuple(named(name), value), { minLength: n, maxLength: n }))
    .map((pairs) => pairs.map(([n, v]) => `${n}: ${v}`));
const requestHead: fc.Arbitrary<{ method: string; head: string }> = fc
  .record({
    method: fc.oneof({ weight: 8, arbitrary: fc.constant('GET') }, fc.constantFrom('POST', 'PUT', 'HEAD')),
    upgrade: lines('Upgrade', upgradeValue, 1),
    key: lines('Sec-WebSocket-Key', keyValue, 1),
    version: lines('Sec-WebSocket-Version', versionValue, 1),
    protocol: lines('Sec-WebSocket-Protocol', fc.constantFrom('chat', 'a, b', 'bad protocol', 'chat, chat'), 0),
    extensions: lines('Sec-WebSocket-Extensions', fc.constantFrom('permessage-deflate', ';;=x'), 0),
    origin: lines('Origin', originValue, 0),
    referer: lines('Referer', refererValue, 0),
    order: fc.integer({ min: 0, max: 1000 }),
  })
  .map((r) => {
    const all = [...r.upgrade, ...r.key, ...r.version, ...r.protocol, ...r.extensions, ...r.origin, ...r.referer];
    // Some order other than the generator's: rotate by `order`.
    const at = all.length === 0 ? 0 : r.order % all.length;
    const ordered = [...all.slice(at), ...all.slice(0, at)];
    const head = `${r.method} / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n${ordered.map((l) => `${l}\r\n`).join('')}\r\n`;
    return { method: r.method, head };
  });

/** The heads encke means to take itself (any other goes to `ws`). */
function meantForEncke(req: IncomingMessage): boolean {
  const raw = req.rawHeaders;
  const count = (name: string): number => raw.filter((v, i) => i % 2 === 0 && v.toLowerCase() === name).length;
  const v = req.headers['sec-websocket-version'];
  return (
    req.method === 'GET' &&
    (v === '13' || v === '8') &&
    count('sec-websocket-protocol') === 0 &&
    ['upgrade', 'sec-websocket-key', 'sec-websocket-version', 'origin', 'referer'].every((n) => count(n) <= 1)
  );
}

describe("encke's WebSocket handshake against ws's handleUpgrade", () => {
  let server: Server;
  let port: number;
  let next: ((req: IncomingMessage | undefined) => void) | undefined;

  /** `head` parsed by node:http: the upgrade request it hands over, or undefined (not an upgrade, refused). */
  function parsed(head: string): Promise<IncomingMessage | undefined> {
    return new Promise((resolve) => {
      next = resolve;
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => {});
      socket.on('close', () => resolve(undefined));
      socket.write(head);
    });
  }

  before(async () => {
    server = createServer((_req, res) => res.destroy());
    server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
      socket.destroy();
      next?.(req);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("takes only handshakes ws accepts, with ws's exact 101 and node's Origin/Referer, and all it means to take", async () => {
    let taken = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(requestHead, async ({ head }) => {
        const req = await parsed(head);
        if (req === undefined) return;
        const ours = usualHandshake(req);
        const theirs = wsAnswer(req);
        if (ours !== undefined) {
          taken++;
          assert.ok(theirs.accepted, `ws refused what encke took: ${JSON.stringify(head)}`);
          assert.equal(ours.response, theirs.written);
          assert.equal(ours.origin, req.headers.origin);
          assert.equal(ours.referer, req.headers.referer);
        } else if (!theirs.accepted) refused++;
        if (theirs.accepted && meantForEncke(req)) assert.equal(ours?.response, theirs.written, JSON.stringify(head));
      }),
      { seed: SEED, numRuns: 1500 },
    );
    // The generator reaches both sides of every check.
    assert.ok(taken > 300, `taken ${taken}`);
    assert.ok(refused > 300, `refused ${refused}`);
  });

  it('takes what ably-js sends, and leaves a subprotocol offer to ws', async () => {
    const ably = `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: ${GOOD_KEY}\r\nSec-WebSocket-Version: 13\r\n`;
    const req = await parsed(`${ably}\r\n`);
    assert.ok(req);
    assert.deepEqual(usualHandshake(req), {
      response:
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n',
      origin: undefined,
      referer: undefined,
    });
    const chat = await parsed(`${ably}Sec-WebSocket-Protocol: chat\r\n\r\n`);
    assert.ok(chat);
    assert.equal(usualHandshake(chat), undefined);
    assert.ok(wsAnswer(chat).written.includes('Sec-WebSocket-Protocol: chat\r\n'));
  });
});
