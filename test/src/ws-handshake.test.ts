/**
 * Handshakes over TCP (issue 19, open rate: encke makes the usual WebSocket handshake itself,
 * transports/ws-handshake.ts, and anything else goes to `ws`'s handleUpgrade). Each row's request
 * goes to an encke node and to a plain `ws` server configured as the node configures `ws`: a refused
 * handshake gets the same bytes (status, headers, body) from both, the socket closed, and nothing
 * upgraded; an accepted one the same 101 head, and from encke CONNECTED after it (in the same write
 * when encke made the handshake).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import { KEYS, TEST_APPS, startServer, type TestServer } from './helpers/server.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const WS_TEXT_FRAME = 0x81;

interface Answer {
  /** Everything read until the server closed, or until a 101 head and its first frame came. */
  bytes: Buffer;
  closed: boolean;
  /** Reads before the 101 head was complete with a frame behind it (one write from the server: 1). */
  chunks: number;
}

/** Sends `head` and reads the answer: to the server's close, or (a 101) its head plus, if `frame`, a first frame. */
function exchange(port: number, head: string, frame: boolean): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    let chunks = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${JSON.stringify(head)}: ${Buffer.concat(parts).toString('latin1')}`));
    }, 5000);
    const finish = (closed: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes: Buffer.concat(parts), closed, chunks });
    };
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      parts.push(d);
      chunks++;
      const all = Buffer.concat(parts);
      const end = all.indexOf('\r\n\r\n');
      if (all.subarray(0, 12).toString() === 'HTTP/1.1 101' && end >= 0 && (!frame || frameAt(all, end + 4))) {
        finish(false);
      }
    });
    socket.on('close', () => finish(true));
    socket.write(head);
  });
}

/** The first server frame behind the head (unmasked, text), once it has come whole. */
function frameAt(bytes: Buffer, at: number): string | undefined {
  if (bytes.length < at + 2) return undefined;
  let length = bytes[at + 1]! & 0x7f;
  let start = at + 2;
  if (length === 126) {
    if (bytes.length < at + 4) return undefined;
    length = bytes.readUInt16BE(at + 2);
    start = at + 4;
  }
  return bytes.length >= start + length ? bytes.toString('utf8', start, start + length) : undefined;
}

/** A request head for `/` with these header lines (after Host). */
function requestHead(port: number, method: string, lines: string[], key: string = KEYS.full): string {
  const query = `key=${encodeURIComponent(key)}&format=json`;
  return `${method} /?${query} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`;
}

const usual = ['Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13'];
const without = (name: string): string[] => usual.filter((l) => !l.startsWith(`${name}:`));
const replacing = (name: string, value: string): string[] => [...without(name), `${name}: ${value}`];

/** Rows: what is sent, and whether `ws` (and so encke) upgrades it; `encke` says encke makes that handshake itself. */
const ROWS: { name: string; method?: string; lines: string[]; upgrades: boolean; encke?: boolean }[] = [
  { name: 'ably-js (version 13)', lines: usual, upgrades: true, encke: true },
  { name: 'version 8', lines: replacing('Sec-WebSocket-Version', '8'), upgrades: true, encke: true },
  { name: 'Upgrade in capitals', lines: replacing('Upgrade', 'WebSocket'), upgrades: true, encke: true },
  {
    name: 'an extension offer (ignored: no permessage-deflate)',
    lines: [...usual, 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits'],
    upgrades: true,
    encke: true,
  },
  {
    name: 'names in lower case',
    lines: usual.map((l) => l.replace(/^[^:]+/, (n) => n.toLowerCase())),
    upgrades: true,
    encke: true,
  },
  {
    name: 'names in upper case',
    lines: usual.map((l) => l.replace(/^[^:]+/, (n) => n.toUpperCase())),
    upgrades: true,
    encke: true,
  },
  { name: 'an Origin line', lines: [...usual, 'Origin: https://a.example'], upgrades: true, encke: true },
  {
    name: 'two Origin lines (ws path)',
    lines: [...usual, 'Origin: https://a.example', 'origin: https://b.example'],
    upgrades: true,
  },
  { name: 'two Upgrade lines', lines: [...usual, 'upgrade: websocket'], upgrades: false },
  { name: 'two version lines', lines: [...usual, 'sec-websocket-version: 13'], upgrades: false },
  { name: 'two keys, one in lower case', lines: [...usual, `sec-websocket-key: ${KEY}`], upgrades: false },
  { name: 'a subprotocol offer (ws answers it)', lines: [...usual, 'Sec-WebSocket-Protocol: chat'], upgrades: true },
  { name: 'version written 013 (ws reads 13)', lines: replacing('Sec-WebSocket-Version', '013'), upgrades: true },
  { name: 'POST', method: 'POST', lines: usual, upgrades: false },
  { name: 'PUT', method: 'PUT', lines: usual, upgrades: false },
  { name: 'no key', lines: without('Sec-WebSocket-Key'), upgrades: false },
  { name: 'a short key', lines: replacing('Sec-WebSocket-Key', KEY.slice(1)), upgrades: false },
  {
    name: 'a key with a character after its padding',
    lines: replacing('Sec-WebSocket-Key', `${KEY}x`),
    upgrades: false,
  },
  { name: 'a key with a URL-safe char', lines: replacing('Sec-WebSocket-Key', KEY.replace('Q', '-')), upgrades: false },
  { name: 'two keys', lines: [...usual, `Sec-WebSocket-Key: ${KEY}`], upgrades: false },
  { name: 'no version', lines: without('Sec-WebSocket-Version'), upgrades: false },
  { name: 'version 12', lines: replacing('Sec-WebSocket-Version', '12'), upgrades: false },
  { name: 'Upgrade: h2c', lines: replacing('Upgrade', 'h2c'), upgrades: false },
  { name: 'Upgrade: websocket2', lines: replacing('Upgrade', 'websocket2'), upgrades: false },
  { name: 'a bad subprotocol list', lines: [...usual, 'Sec-WebSocket-Protocol: a b'], upgrades: false },
  { name: 'a subprotocol twice', lines: [...usual, 'Sec-WebSocket-Protocol: chat, chat'], upgrades: false },
];

describe('WebSocket handshakes: encke answers as ws does', () => {
  let ts: TestServer;
  let reference: Server;
  let referencePort: number;

  before(async () => {
    ts = await startServer();
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
    reference = createServer();
    reference.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, () => {}));
    await new Promise<void>((resolve) => reference.listen(0, '127.0.0.1', resolve));
    referencePort = (reference.address() as AddressInfo).port;
  });
  after(async () => {
    await ts.close();
    reference.closeAllConnections();
    await new Promise((resolve) => reference.close(resolve));
  });

  for (const row of ROWS) {
    it(`${row.name}: ${row.upgrades ? 'upgraded' : 'refused'} as ws does`, async () => {
      const method = row.method ?? 'GET';
      const connections = ts.server.inspect.connections;
      const ours = await exchange(ts.port, requestHead(ts.port, method, row.lines), true);
      const theirs = await exchange(referencePort, requestHead(referencePort, method, row.lines), false);
      if (!row.upgrades) {
        assert.ok(theirs.closed, 'ws closed the socket');
        assert.ok(ours.closed, 'encke closed the socket');
        assert.equal(ours.bytes.toString('latin1'), theirs.bytes.toString('latin1'));
        assert.doesNotMatch(ours.bytes.toString('latin1'), /^HTTP\/1\.1 101/);
        assert.ok(ts.server.inspect.connections <= connections, 'no connection opened');
        return;
      }
      const head = theirs.bytes.toString('latin1');
      assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n[^]*\r\n\r\n$/);
      assert.equal(ours.bytes.subarray(0, theirs.bytes.length).toString('latin1'), head);
      // CONNECTED follows the head: a text frame whose JSON is action 4.
      const frame = ours.bytes.subarray(theirs.bytes.length);
      assert.equal(frame[0], WS_TEXT_FRAME);
      if (row.encke) assert.equal(ours.chunks, 1, 'the 101 and CONNECTED in one write');
    });
  }
});

describe("WebSocket handshakes: the page's origin, whoever made the handshake", () => {
  const GOOD = 'http://good.example:8080';
  const BAD = 'http://evil.example';
  const LOCKED_KEY = 'locked.main:locked-secret-0001';
  let ts: TestServer;

  before(async () => {
    ts = await startServer({
      apps: [...TEST_APPS, { id: 'locked', keys: [{ key: LOCKED_KEY }], allowedOrigins: [GOOD] }],
    });
  });
  after(() => ts.close());

  const chat = 'Sec-WebSocket-Protocol: chat';
  const ORIGIN_ROWS: { name: string; lines: string[]; allowed: boolean }[] = [
    { name: 'the allowed Origin', lines: [`Origin: ${GOOD}`], allowed: true },
    { name: 'another Origin', lines: [`origin: ${BAD}`], allowed: false },
    { name: 'a Referer of the allowed origin', lines: [`Referer: ${GOOD}/page.html`], allowed: true },
    { name: 'a Referer of another origin', lines: [`REFERER: ${BAD}/page.html`], allowed: false },
    {
      name: 'another Origin before an allowed Referer',
      lines: [`Origin: ${BAD}`, `Referer: ${GOOD}/`],
      allowed: false,
    },
    {
      name: 'the allowed Origin twice (joined by node)',
      lines: [`Origin: ${GOOD}`, `Origin: ${GOOD}`],
      allowed: false,
    },
    {
      name: 'two Referers, the first allowed (node keeps it)',
      lines: [`Referer: ${GOOD}/`, `Referer: ${BAD}/`],
      allowed: true,
    },
    { name: 'the allowed Origin, with a subprotocol (ws path)', lines: [`Origin: ${GOOD}`, chat], allowed: true },
    { name: 'another Origin, with a subprotocol (ws path)', lines: [`Origin: ${BAD}`, chat], allowed: false },
  ];
  for (const row of ORIGIN_ROWS) {
    it(`${row.name}: ${row.allowed ? 'CONNECTED' : 'ERROR 40300'}`, async () => {
      const answer = await exchange(ts.port, requestHead(ts.port, 'GET', [...usual, ...row.lines], LOCKED_KEY), true);
      const end = answer.bytes.indexOf('\r\n\r\n') + 4;
      const frame = frameAt(answer.bytes, end) ?? '';
      if (row.allowed) assert.match(frame, /"action":4[,}]/);
      else assert.match(frame, /"action":9[,}][^]*"code":40300[,}]/);
    });
  }
});
