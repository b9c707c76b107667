/**
 * A parked response (packages/server/src/http/parked.ts) leaves its socket's shape as node:http made
 * it: parking adds no property to the socket (its ParkedResponse is kept off it), so a parked socket
 * and one node:http still serves share V8's map. node's write path (`_unrefTimer`'s `s[kTimeout]`,
 * `writeGeneric`'s `self[kHandle]`) then sees no socket map of parking's own: with one more map it
 * saw five, past the four V8 keeps inline, and every streamed delivery paid a megamorphic lookup
 * (bench/README.md, "Comet streaming: a socket map fewer"). The parked socket still serves: its
 * chunked response arrives whole and the next request on it goes back to node:http.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { after, before, describe, it } from 'node:test';
import { ParkedResponse, type ParkOwner } from '@encke/server/internal';

setFlagsFromString('--allow-natives-syntax');
/** V8's own answer: do the two objects have the same hidden class (map)? */
const haveSameMap = mapCheck(new Function('a', 'b', 'return %HaveSameMap(a, b)'));

type MapCheck = (a: object, b: object) => unknown;

function isMapCheck(fn: unknown): fn is MapCheck {
  return typeof fn === 'function' && fn.length === 2;
}

function mapCheck(fn: unknown): MapCheck {
  if (!isMapCheck(fn)) throw new Error('%HaveSameMap(a, b) did not compile');
  return fn;
}

function sameMap(a: object, b: object): boolean {
  return haveSameMap(a, b) === true;
}

const owner: ParkOwner = { parkedClosed: () => undefined };

/** Names and symbols of an object's own properties, symbols by description. */
function ownKeys(o: object): string[] {
  return Reflect.ownKeys(o).map((k) => (typeof k === 'symbol' ? `@${k.description ?? ''}` : k));
}

interface Held {
  req: IncomingMessage;
  res: ServerResponse;
}

/** A raw client: one GET on its own connection, the bytes read so far as text. */
class RawClient {
  text = '';
  readonly socket: Socket;
  constructor(port: number, path: string, clients: Socket[]) {
    this.socket = connect(port, '127.0.0.1');
    clients.push(this.socket);
    this.socket.on('data', (chunk: Buffer) => (this.text += chunk.toString('latin1')));
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  }

  async until(pattern: string): Promise<void> {
    for (let i = 0; i < 500 && !this.text.includes(pattern); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(this.text.includes(pattern), `waited for ${JSON.stringify(pattern)}, got ${JSON.stringify(this.text)}`);
  }
}

describe('parked socket: no property of its own', () => {
  let server: Server;
  let port = 0;
  const held: Held[] = [];
  const waiting: (() => void)[] = [];
  /** Every client socket, ended in `after` whatever the test did (a parked socket is no longer the server's). */
  const clients: Socket[] = [];

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/next') return void res.end('next');
      res.setHeader('X-Held', 'yes');
      held.push({ req, res });
      waiting.shift()?.();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    port = address.port;
  });

  after(async () => {
    for (const socket of clients) socket.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** The next held request (in the order they arrive). */
  async function nextHeld(): Promise<Held> {
    if (held.length === 0) await new Promise<void>((resolve) => waiting.push(resolve));
    return held.shift()!;
  }

  it('keeps the keys and the V8 map node:http gave the socket, and still serves', async () => {
    const parkedClient = new RawClient(port, '/hold', clients);
    const a = await nextHeld();
    const httpClient = new RawClient(port, '/hold', clients);
    const b = await nextHeld();
    const socket = a.req.socket;
    const keysBefore = ownKeys(socket);
    assert.ok(sameMap(socket, b.req.socket), 'two sockets node:http serves share a map');

    const parked = ParkedResponse.take(a.req, a.res, owner);
    assert.ok(parked !== undefined, 'the held GET is parked');
    assert.equal(parked.socket, socket);
    assert.deepEqual(ownKeys(socket), keysBefore);
    assert.ok(sameMap(socket, b.req.socket), 'the parked socket keeps the map of one node:http serves');

    parked.openChunked(['Content-Type', 'text/plain']);
    parked.write(Buffer.from('5\r\nhello\r\n', 'latin1'));
    parked.endChunked();
    await parkedClient.until('0\r\n\r\n');
    assert.match(parkedClient.text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(parkedClient.text, /\r\nX-Held: yes\r\n/);
    assert.ok(parkedClient.text.endsWith('\r\n\r\n5\r\nhello\r\n0\r\n\r\n'));
    assert.deepEqual(ownKeys(socket), keysBefore);

    // The next request on the parked socket goes back to node:http.
    parkedClient.socket.write('GET /next HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await parkedClient.until('next');

    b.res.end('b');
    await httpClient.until('\r\n\r\nb');
  });
});
