/**
 * A comet client's next recv on its parked socket is read without node:http
 * (packages/server/src/transports/comet/raw-recv.ts, http/recv-head.ts): the answer is what the
 * route gave, the response is parked at once, a stream's renewal too; and every request the reader
 * does not take (smuggling shapes, split or pipelined heads, other credentials, CORS, unknown keys)
 * reaches node:http untouched and gets node:http's answer. Over real TCP sockets.
 */
import assert from 'node:assert/strict';
import { connect as tcpConnect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { decode } from '@msgpack/msgpack';
import { Action, type ProtocolMessage } from '@encke/protocol';
import { eventually } from './helpers/ably.js';
import { batchOf, jsonBatch } from './helpers/json.js';
import { cometRequest, JSON_TYPE, MSGPACK_TYPE } from './helpers/raw-comet.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

const FULL = `key=${encodeURIComponent(KEYS.full)}`;

interface Response {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/** A client on one raw socket: writes heads, reads whole responses (Content-Length or chunked). */
class RawClient {
  private data = Buffer.alloc(0);
  private closed = false;
  readonly socket: Socket;

  constructor(port: number) {
    this.socket = tcpConnect(port, '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => (this.data = Buffer.concat([this.data, chunk])));
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('error', () => undefined);
  }

  send(text: string): void {
    this.socket.write(Buffer.from(text, 'latin1'));
  }

  /** The next whole response. */
  async response(what: string): Promise<Response> {
    let res: Response | undefined;
    await eventually(() => (res = this.take()) !== undefined || this.closed, 5000, what);
    if (!res) assert.fail(`${what}: the socket closed`);
    return res;
  }

  /** Bytes of an open chunked response so far, as text (a stream). */
  get text(): string {
    return this.data.toString('latin1');
  }

  private take(): Response | undefined {
    const end = this.data.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const [status, ...lines] = this.data.subarray(0, end).toString('latin1').split('\r\n');
    const headers = new Map(
      lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
    );
    let body: Buffer;
    let rest: number;
    if (headers.get('transfer-encoding') === 'chunked') {
      const last = this.data.indexOf('\r\n0\r\n\r\n', end);
      if (last < 0) return undefined;
      body = dechunk(this.data.subarray(end + 4, last + 2));
      rest = last + 7;
    } else {
      const length = Number(headers.get('content-length') ?? 0);
      if (this.data.length < end + 4 + length) return undefined;
      body = this.data.subarray(end + 4, end + 4 + length);
      rest = end + 4 + length;
    }
    this.data = this.data.subarray(rest);
    return { status: Number(status!.split(' ')[1]), headers, body };
  }
}

function dechunk(bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const eol = bytes.indexOf('\r\n', at);
    const size = parseInt(bytes.subarray(at, eol).toString('latin1'), 16);
    parts.push(bytes.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function jsonMessages(body: Buffer): ProtocolMessage[] {
  return body
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap(jsonBatch);
}

async function eventuallyMatch(client: RawClient, pattern: RegExp): Promise<RegExpExecArray> {
  let found: RegExpExecArray | null = null;
  await eventually(() => (found = pattern.exec(client.text)) !== null, 5000, String(pattern));
  return found!;
}

const recvHead = (key: string, query = FULL, headers = 'Host: x\r\n'): string =>
  `GET /comet/${key}/recv?${query} HTTP/1.1\r\n${headers}\r\n`;

async function attach(port: number, key: string, channel: string): Promise<void> {
  const body = encodeURIComponent(JSON.stringify([{ action: Action.ATTACH, channel }]));
  assert.equal((await cometRequest(port, `/comet/${key}/send?${FULL}&body=${body}`)).status, 204);
}

describe('comet: the next recv read on a parked socket', () => {
  let ts: TestServer;
  before(async () => {
    // Heartbeats every second; a stream is renewed after 0.5-1 s.
    ts = await startServer({ maxIdleInterval: 3000, maxCometStreamDuration: 1000 });
  });
  after(async () => {
    await ts.close();
  });

  const raw = (): number => ts.server.inspect.cometRawRecvs;
  const parked = (id: string): boolean => ts.server.inspect.connection(id)?.cometRecvParked === true;

  /** A polling connection on `client`'s socket whose recv is parked; its id and key. */
  async function parkedPoll(client: RawClient): Promise<{ id: string; key: string }> {
    client.send(`GET /comet/connect?${FULL}&heartbeats=true&v=6&stream=false HTTP/1.1\r\nHost: x\r\n\r\n`);
    const connected = jsonMessages((await client.response('CONNECTED')).body)[0]!;
    const id = connected.connectionId!;
    const key = connected.connectionDetails!.connectionKey!;
    client.send(recvHead(key));
    await eventually(() => parked(id), 3000, 'recv parked');
    return { id, key };
  }

  it('serves a long poll’s next recv there, parked at once, answered as the route answers', async () => {
    const client = new RawClient(ts.port);
    const { id, key } = await parkedPoll(client);
    await attach(ts.port, key, 'raw-a');
    const first = await client.response('ATTACHED through node:http’s recv');
    const before = raw();
    client.send(recvHead(key, `${FULL}&rnd=1`, 'Host: x\r\naccept: application/json\r\nConnection: keep-alive\r\n'));
    await eventually(() => raw() === before + 1, 3000, 'recv read raw');
    assert.equal(parked(id), true, 'held parked at once, not a parking period later');
    await attach(ts.port, key, 'raw-b');
    const second = await client.response('ATTACHED through the raw recv');
    assert.equal(second.status, 200);
    assert.deepEqual(
      jsonMessages(second.body).map((pm) => [pm.action, pm.channel]),
      [[Action.ATTACHED, 'raw-b']],
    );
    // The same head as the answer to node:http's recv (Date aside).
    first.headers.delete('date');
    second.headers.delete('date');
    assert.deepEqual(
      second.headers,
      new Map([...first.headers].map(([n, v]) => [n, n === 'content-length' ? String(second.body.length) : v])),
    );
    assert.equal(second.headers.get('content-type'), JSON_TYPE);
    // A wait=0 poll is answered at once; the socket keeps serving recvs.
    client.send(recvHead(key, `${FULL}&wait=0`));
    assert.deepEqual(jsonMessages((await client.response('short poll')).body), []);
    assert.equal(raw(), before + 2);
    client.socket.destroy();
    await eventually(() => ts.server.inspect.connection(id)?.cometRecvHeld === false, 3000, 'cut noticed');
  });

  it('serves the same head again and again there, until the connection is gone', async () => {
    const client = new RawClient(ts.port);
    const { id, key } = await parkedPoll(client);
    const before = raw();
    // Byte for byte the same recv each time, as the SDKs send it: each one read raw, held parked, answered.
    const repeated = recvHead(key, `${FULL}&rnd=11`);
    for (const [i, channel] of ['raw-x1', 'raw-x2', 'raw-x3'].entries()) {
      await attach(ts.port, key, channel);
      assert.deepEqual(
        jsonMessages((await client.response(`ATTACHED ${channel}`)).body).map((pm) => pm.channel),
        [channel],
      );
      client.send(repeated);
      await eventually(() => raw() === before + i + 1, 3000, 'recv read raw');
      assert.equal(parked(id), true);
    }
    await attach(ts.port, key, 'raw-x4');
    await client.response('ATTACHED raw-x4');
    // As long as the last one, but other bytes: read as what they say (a plain poll, answered at once).
    const short = recvHead(key, `${FULL}&wait=0`);
    assert.equal(short.length, repeated.length);
    client.send(short);
    assert.deepEqual(jsonMessages((await client.response('short poll')).body), []);
    assert.equal(raw(), before + 4);
    // Closed from another socket: the same bytes again reach node:http, whose route answers 80022.
    assert.equal((await cometRequest(ts.port, `/comet/${key}/close?${FULL}`)).status, 204);
    await eventually(() => ts.server.inspect.connection(id) === undefined, 3000, 'connection closed');
    client.send(short);
    const gone = await client.response('node:http’s answer');
    assert.equal(gone.status, 400);
    assert.equal(gone.headers.get('x-ably-errorcode'), '80022');
    assert.equal(raw(), before + 4, 'not read raw');
    client.socket.destroy();
  });

  it('notices a client cutting a recv held after a raw read', async () => {
    const client = new RawClient(ts.port);
    const { id, key } = await parkedPoll(client);
    await attach(ts.port, key, 'raw-c');
    await client.response('ATTACHED');
    const before = raw();
    client.send(recvHead(key));
    await eventually(() => raw() === before + 1, 3000, 'recv read raw');
    assert.equal(ts.server.inspect.connection(id)?.cometRecvHeld, true);
    client.socket.destroy();
    await eventually(() => ts.server.inspect.connection(id)?.cometRecvHeld === false, 3000, 'cut noticed');
    await eventually(() => ts.server.inspect.connection(id)?.transport === null, 3000, 'transport gone');
  });

  it('answers in the format the raw recv’s Accept asks for', async () => {
    const client = new RawClient(ts.port);
    const { key } = await parkedPoll(client);
    await attach(ts.port, key, 'raw-m');
    await client.response('ATTACHED');
    const before = raw();
    client.send(recvHead(key, FULL, `Host: x\r\nAccept: ${MSGPACK_TYPE}\r\n`));
    await eventually(() => raw() === before + 1, 3000, 'recv read raw');
    await attach(ts.port, key, 'raw-m2');
    const res = await client.response('msgpack answer');
    assert.equal(res.headers.get('content-type'), MSGPACK_TYPE);
    const pms = batchOf(decode(res.body));
    assert.deepEqual(
      pms.map((pm) => [pm.action, pm.channel]),
      [[Action.ATTACHED, 'raw-m2']],
    );
    client.socket.destroy();
  });

  it('answers in the format a recv’s Accept asks for through node:http too (a new socket)', async () => {
    const first = new RawClient(ts.port);
    const { id, key } = await parkedPoll(first);
    // A recv on a socket of its own: its first request, so node:http reads it, not the raw reader.
    // It takes the place of the parked one, which is answered (empty) and released.
    const client = new RawClient(ts.port);
    const before = raw();
    client.send(recvHead(key, FULL, `Host: x\r\nAccept: ${MSGPACK_TYPE}\r\n`));
    await first.response('the recv replaced');
    await eventually(() => ts.server.inspect.connection(id)?.cometRecvHeld === true, 3000, 'recv held');
    await attach(ts.port, key, 'http-m');
    const res = await client.response('msgpack answer');
    assert.equal(raw(), before, 'not read raw');
    assert.equal(res.headers.get('content-type'), MSGPACK_TYPE);
    const pms = batchOf(decode(res.body));
    // (A heartbeat may come first: this server sends one every second.)
    assert.deepEqual(
      pms.filter((pm) => pm.action !== Action.HEARTBEAT).map((pm) => [pm.action, pm.channel]),
      [[Action.ATTACHED, 'http-m']],
    );
    first.socket.destroy();
    client.socket.destroy();
  });

  it('reads a stream’s renewal there and keeps streaming on it', async () => {
    const client = new RawClient(ts.port);
    client.send(`GET /comet/connect?${FULL}&heartbeats=true&v=6 HTTP/1.1\r\nHost: x\r\n\r\n`);
    const line = await eventuallyMatch(client, /connectionKey":"([^"]+)"/);
    // A request through the route (this send) leaves the credential it verified for the next ones.
    await attach(ts.port, line[1]!, 'raw-s0');
    // The first stream ends within 0.5-1 s (plus a heartbeat visit), whole, parked before it ended.
    const first = await client.response('first stream');
    const connected = jsonMessages(first.body)[0]!;
    const id = connected.connectionId!;
    const key = connected.connectionDetails!.connectionKey!;
    const before = raw();
    client.send(recvHead(key));
    await eventually(() => raw() === before + 1, 3000, 'renewal read raw');
    assert.equal(parked(id), true);
    await attach(ts.port, key, 'raw-s');
    const second = await client.response('second stream');
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('transfer-encoding'), 'chunked');
    assert.ok(
      jsonMessages(second.body).some((pm) => pm.action === Action.ATTACHED && pm.channel === 'raw-s'),
      second.body.toString(),
    );
    client.socket.destroy();
  });

  /** Requests the reader must leave to node:http, sent on an idle parked socket; node:http's status. */
  const refused: [string, (key: string) => string | string[], number | number[] | 'dropped'][] = [
    [
      'Content-Length with a body',
      (k) => `GET /comet/${k}/recv?${FULL}&wait=0 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello`,
      200,
    ],
    [
      'Transfer-Encoding: chunked',
      (k) => `GET /comet/${k}/recv?${FULL}&wait=0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      200,
    ],
    [
      'Content-Length and Transfer-Encoding (smuggling)',
      (k) =>
        `GET /comet/${k}/recv?${FULL}&wait=0 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      'dropped',
    ],
    [
      'conflicting Content-Lengths',
      (k) =>
        `GET /comet/${k}/recv?${FULL}&wait=0 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 2\r\n\r\n`,
      'dropped',
    ],
    [
      'a folded header line',
      (k) => `GET /comet/${k}/recv?${FULL}&wait=0 HTTP/1.1\r\nHost: x\r\nUser-Agent: a\r\n b\r\n\r\n`,
      'dropped',
    ],
    ['bare LF line ends', (k) => `GET /comet/${k}/recv?${FULL}&wait=0 HTTP/1.1\nHost: x\n\n`, 'dropped'],
    ['two recvs pipelined in one read', (k) => recvHead(k, `${FULL}&wait=0`).repeat(2), [200, 200]],
    [
      'a head split over two reads',
      (k) => [`GET /comet/${k}/recv?${FULL}&wait=0 HTT`, 'P/1.1\r\nHost: x\r\n\r\n'],
      200,
    ],
    ['an Origin (CORS)', (k) => recvHead(k, `${FULL}&wait=0`, 'Host: x\r\nOrigin: https://app.example\r\n'), 200],
    ['a wrong secret', (k) => recvHead(k, `key=${encodeURIComponent(`${KEYS.full.split(':')[0]}:wrong`)}&wait=0`), 401],
    ['an unknown connection key', () => recvHead('nosuch!key0', `${FULL}&wait=0`), 400],
    ['a bad parameter', (k) => recvHead(k, `${FULL}&wait=5`), 400],
    ['a JSONP framing', (k) => recvHead(k, `${FULL}&envelope=jsonp&callback=cb&wait=0`), 200],
    ['an ack position', (k) => recvHead(k, `${FULL}&ack=0&stream=false`), 400],
    ['HTTP/1.0', (k) => `GET /comet/${k}/recv?${FULL}&wait=0 HTTP/1.0\r\nHost: x\r\n\r\n`, 200],
  ];
  for (const [name, request, statuses] of refused) {
    it(`leaves to node:http: ${name}`, async () => {
      const client = new RawClient(ts.port);
      const { key } = await parkedPoll(client);
      await attach(ts.port, key, 'raw-r');
      await client.response('ATTACHED');
      const before = raw();
      const pieces = request(key);
      for (const piece of Array.isArray(pieces) ? pieces : [pieces]) {
        client.send(piece);
        await new Promise((r) => setTimeout(r, 30));
      }
      // A head node:http cannot parse: the node drops the socket (node.ts refuseMalformed).
      if (statuses === 'dropped') await eventually(() => client.socket.destroyed, 5000, 'dropped');
      else
        for (const status of Array.isArray(statuses) ? statuses : [statuses])
          assert.equal((await client.response(`node:http's answer (${status})`)).status, status);
      assert.equal(raw(), before, 'not read raw');
      client.socket.destroy();
    });
  }
});
