/**
 * Parked recvs (packages/server/src/http/parked.ts): a comet recv held past the parking period is
 * taken off node:http and written raw. Nothing a client sees may change: the same status, headers
 * and body, keep-alive sockets that serve the next request, a cut noticed, requests pipelined
 * behind a held recv answered after it, and a node that closes with parked recvs.
 */
import assert from 'node:assert/strict';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { connect as tcpConnect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Action, type ProtocolMessage } from '@encke/protocol';
import { eventually } from './helpers/ably.js';
import { jsonBatch, jsonObject } from './helpers/json.js';
import { cometRequest, JSON_TYPE } from './helpers/raw-comet.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

const FULL = `key=${encodeURIComponent(KEYS.full)}`;
const ORIGIN = 'https://app.example';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The request went over a socket an earlier request of the same agent used. */
  reused: boolean;
}

/** One GET over `agent`, the whole body read (`onText` sees it as it arrives). */
function get(
  port: number,
  path: string,
  agent: Agent,
  headers: Record<string, string> = {},
  onText?: (text: string) => void,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
        onText?.(chunk.toString('utf8'));
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, reused: req.reusedSocket }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function messages(body: string): ProtocolMessage[] {
  return body
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => jsonBatch(line));
}

/** Connects in polling mode; the connection's id and key. */
async function pollingConnection(port: number, agent: Agent): Promise<{ id: string; key: string }> {
  const res = await get(port, `/comet/connect?${FULL}&heartbeats=true&v=6&stream=false`, agent, { origin: ORIGIN });
  const connected = messages(res.body)[0]!;
  assert.equal(connected.action, Action.CONNECTED);
  return { id: connected.connectionId!, key: connected.connectionDetails!.connectionKey! };
}

async function attach(port: number, key: string, channel: string): Promise<void> {
  const body = encodeURIComponent(JSON.stringify([{ action: Action.ATTACH, channel }]));
  const res = await cometRequest(port, `/comet/${key}/send?${FULL}&body=${body}`);
  assert.equal(res.status, 204);
}

/** Bytes read from a raw socket, as text. */
class Reader {
  text = '';
  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => (this.text += chunk.toString('latin1')));
  }

  async until(pattern: RegExp, what: string): Promise<RegExpMatchArray> {
    let found: RegExpMatchArray | null = null;
    await eventually(() => (found = pattern.exec(this.text)) !== null, 5000, what);
    return found!;
  }
}

describe('comet: parked recvs', () => {
  let ts: TestServer;
  before(async () => {
    // Heartbeats every second; a stream is recycled after 1.5-3 s (recv.ts streamLifetime).
    ts = await startServer({ maxIdleInterval: 3000, maxCometStreamDuration: 3000 });
  });
  after(async () => {
    await ts.close();
  });

  it('answers a parked long poll as node:http would, and its socket serves the next request', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const { id, key } = await pollingConnection(ts.port, agent);
    const held = get(ts.port, `/comet/${key}/recv?${FULL}`, agent, { origin: ORIGIN });
    await eventually(() => ts.server.inspect.connection(id)?.cometRecvParked === true, 3000, 'recv parked');
    await attach(ts.port, key, 'parked-poll');
    const res = await held;
    assert.equal(res.status, 200);
    assert.equal(res.reused, true);
    assert.equal(res.headers['content-type'], JSON_TYPE);
    assert.equal(res.headers['cache-control'], 'no-store, no-transform');
    assert.equal(res.headers['x-accel-buffering'], 'no');
    assert.equal(res.headers['access-control-allow-origin'], ORIGIN);
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    assert.equal(res.headers.connection, 'keep-alive');
    assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body));
    assert.ok(res.headers.date);
    assert.deepEqual(
      messages(res.body).map((pm) => [pm.action, pm.channel]),
      [[Action.ATTACHED, 'parked-poll']],
    );
    // The same socket goes back to node:http for the next recv, which is parked again.
    const next = get(ts.port, `/comet/${key}/recv?${FULL}`, agent);
    await eventually(() => ts.server.inspect.connection(id)?.cometRecvParked === true, 3000, 'next recv parked');
    const heartbeat = await next;
    assert.equal(heartbeat.reused, true);
    assert.deepEqual(
      messages(heartbeat.body).map((pm) => pm.action),
      [Action.HEARTBEAT],
    );
    await cometRequest(ts.port, `/comet/${key}/close?${FULL}`);
    agent.destroy();
  });

  it('keeps writing a parked stream and ends it cleanly when it is recycled', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let text = '';
    const stream = get(ts.port, `/comet/connect?${FULL}&heartbeats=true&v=6`, agent, {}, (chunk) => (text += chunk));
    await eventually(() => messages(text.slice(0, text.lastIndexOf('\n') + 1)).length > 0, 3000, 'CONNECTED');
    const connected = messages(text.slice(0, text.indexOf('\n') + 1))[0]!;
    const id = connected.connectionId!;
    const key = connected.connectionDetails!.connectionKey!;
    await eventually(() => ts.server.inspect.connection(id)?.cometRecvParked === true, 3000, 'stream parked');
    await attach(ts.port, key, 'parked-stream');
    await eventually(() => text.includes('"channel":"parked-stream"'), 3000, 'ATTACHED written to the parked stream');
    // Recycled after 1.5-3 s: the chunked body ends and the client reads it whole.
    const res = await stream;
    assert.equal(res.status, 200);
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    assert.deepEqual(
      messages(res.body)
        .filter((pm) => pm.action !== Action.HEARTBEAT)
        .map((pm) => pm.action),
      [Action.CONNECTED, Action.ATTACHED],
    );
    // The next recv goes over the same socket, and is parked again.
    const next = get(ts.port, `/comet/${key}/recv?${FULL}`, agent);
    await eventually(() => ts.server.inspect.connection(id)?.cometRecvParked === true, 3000, 'next stream parked');
    const again = await next;
    assert.equal(again.reused, true);
    assert.equal(again.status, 200);
    await cometRequest(ts.port, `/comet/${key}/close?${FULL}`);
    agent.destroy();
  });

  it('notices a client cutting its parked recv', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const { id, key } = await pollingConnection(ts.port, agent);
    const socket = tcpConnect(ts.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(`GET /comet/${key}/recv?${FULL} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await eventually(() => ts.server.inspect.connection(id)?.cometRecvParked === true, 3000, 'recv parked');
    socket.destroy();
    await eventually(() => ts.server.inspect.connection(id)?.cometRecvHeld === false, 3000, 'cut noticed');
    // The transport is gone at the next tick; the connection stays resumable.
    await eventually(() => ts.server.inspect.connection(id)?.transport === null, 3000, 'transport gone');
    agent.destroy();
  });

  it('a client ending its side of a parked recv ends the socket', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const { id, key } = await pollingConnection(ts.port, agent);
    const socket = tcpConnect(ts.port, '127.0.0.1');
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(`GET /comet/${key}/recv?${FULL} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await eventually(() => ts.server.inspect.connection(id)?.cometRecvParked === true, 3000, 'recv parked');
    socket.end();
    socket.resume();
    await closed;
    await eventually(() => ts.server.inspect.connection(id)?.cometRecvHeld === false, 3000, 'end noticed');
    agent.destroy();
  });

  it('answers a request pipelined behind a parked recv after it, in order', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const { id, key } = await pollingConnection(ts.port, agent);
    const socket = tcpConnect(ts.port, '127.0.0.1');
    const reader = new Reader(socket);
    socket.write(`GET /comet/${key}/recv?${FULL} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await eventually(() => ts.server.inspect.connection(id)?.cometRecvParked === true, 3000, 'recv parked');
    socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    // The recv is answered by the next heartbeat (at most a second), then /health.
    const [, first, second] = await reader.until(
      /^HTTP\/1\.1 200 OK\r\n[\s\S]*?\r\n\r\n(\[.*\])\r?\n?HTTP\/1\.1 200 OK\r\n[\s\S]*?\r\n\r\n(\{.*\})/,
      'both answers',
    );
    assert.deepEqual(
      jsonBatch(first!).map((pm) => pm.action),
      [Action.HEARTBEAT],
    );
    assert.equal(jsonObject(second!).status, 'ok');
    socket.destroy();
    await cometRequest(ts.port, `/comet/${key}/close?${FULL}`);
    agent.destroy();
  });

  it('closes a node that holds parked recvs', async () => {
    const other = await startServer({});
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const { id, key } = await pollingConnection(other.port, agent);
    const held = get(other.port, `/comet/${key}/recv?${FULL}`, agent).catch(() => undefined);
    await eventually(() => other.server.inspect.connection(id)?.cometRecvParked === true, 3000, 'recv parked');
    await other.close();
    await held;
    agent.destroy();
  });
});
