/**
 * A channel's fan-out to comet streams (transports/comet/stream.ts): on an open plain stream (JSON
 * lines or msgpack, what the SDKs use) each frame goes out as its one shared HTTP chunk, written
 * straight to the socket, parked or still held by node:http. Checked byte for byte on the wire: the
 * chunk is `<size>\r\n[<frame>]\n\r\n` (JSON) or a one-element msgpack array, the same bytes on
 * every stream of a format, counted in bytes out; a framed stream (SSE, multipart) gets its
 * framing's piece instead, and a stream without chunked encoding (HTTP/1.0) the bare line. A parked
 * stream past its lifetime ends right after a fan-out frame: that frame's chunk and the end of the
 * body in one socket write.
 */
import assert from 'node:assert/strict';
import { batchOf } from './helpers/json.js';
import { connect as tcpConnect, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { decode } from '@msgpack/msgpack';
import { Action } from '@encke/protocol';
import { FakeClock } from '@encke/server/internal';
import { eventually, rest } from './helpers/ably.js';
import { cometRequest, jsonLineMessages } from './helpers/raw-comet.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';
import { SocketWriteSpy } from './helpers/socket-write-spy.js';
import { serverPerSuite } from './helpers/suite.js';

const FULL = `key=${encodeURIComponent(KEYS.full)}`;
const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/** A raw TCP client holding one streamed recv: the response head and the body's pieces as sent. */
class RawStream {
  readonly socket: Socket;
  bytes = Buffer.alloc(0);

  constructor(port: number, request: string) {
    this.socket = tcpConnect(port, '127.0.0.1');
    this.socket.on('error', () => undefined);
    this.socket.on('data', (chunk: Buffer) => (this.bytes = Buffer.concat([this.bytes, chunk])));
    this.socket.write(request);
  }

  get head(): string {
    const end = this.bytes.indexOf(HEAD_END);
    return end < 0 ? '' : this.bytes.subarray(0, end).toString('latin1');
  }

  get body(): Buffer {
    const end = this.bytes.indexOf(HEAD_END);
    return end < 0 ? Buffer.alloc(0) : this.bytes.subarray(end + HEAD_END.length);
  }

  /** The body's complete chunks, each as sent (size line, payload, CRLF); throws on broken framing. */
  chunks(): Buffer[] {
    const body = this.body;
    const out: Buffer[] = [];
    for (let at = 0; ;) {
      const lineEnd = body.indexOf(CRLF, at);
      if (lineEnd < 0) return out;
      const size = body.subarray(at, lineEnd).toString('latin1');
      assert.match(size, /^[0-9a-f]+$/, 'a chunk starts with its size in lower-case hex');
      const end = lineEnd + 2 + parseInt(size, 16) + 2;
      if (body.length < end) return out;
      assert.ok(body.subarray(end - 2, end).equals(CRLF), 'a chunk ends with CRLF');
      out.push(body.subarray(at, end));
      at = end;
    }
  }

  text(): string {
    return this.body.toString('utf8');
  }
}

function payloadOf(chunk: Buffer): Buffer {
  return chunk.subarray(chunk.indexOf(CRLF) + 2, chunk.length - 2);
}

/** The CONNECTED's connectionId and connectionKey: from the text (JSON, framings), or the first msgpack chunk. */
function connectedOf(raw: RawStream): { id: string; key: string } | undefined {
  const text = raw.text();
  const key = /"connectionKey":"([^"]+)"/.exec(text)?.[1];
  const id = /"connectionId":"([^"]+)"/.exec(text)?.[1];
  if (key !== undefined && id !== undefined) return { id, key };
  const first = raw.head.includes('application/x-msgpack') ? raw.chunks()[0] : undefined;
  if (!first) return undefined;
  const [pm] = batchOf(decode(payloadOf(first)));
  const connected = { id: pm?.connectionId, key: pm?.connectionDetails?.connectionKey };
  assert.ok(connected.id !== undefined && connected.key !== undefined, 'the first msgpack chunk is a CONNECTED');
  return { id: connected.id, key: connected.key };
}

/** Opens a stream (`GET /comet/connect`) attached to `channel`; returns the client and its connection id. */
async function openStream(
  ts: TestServer,
  channel: string,
  opts: { query?: string; headers?: string; version?: string } = {},
): Promise<{ raw: RawStream; id: string; key: string }> {
  const version = opts.version ?? '1.1';
  const head = `GET /comet/connect?${FULL}&v=6${opts.query ?? ''} HTTP/${version}\r\nHost: 127.0.0.1\r\n`;
  const raw = new RawStream(ts.port, `${head}${opts.headers ?? ''}\r\n`);
  let connected: { id: string; key: string } | undefined;
  await eventually(() => (connected = connectedOf(raw)) !== undefined, 3000, 'CONNECTED');
  const { id, key } = connected!;
  const body = encodeURIComponent(JSON.stringify([{ action: Action.ATTACH, channel }]));
  const res = await cometRequest(ts.port, `/comet/${key}/send?${FULL}&body=${body}`);
  assert.equal(res.status, 204, JSON.stringify(res.body));
  await eventually(() => raw.bytes.includes(channel), 3000, 'ATTACHED');
  return { raw, id, key };
}

describe('comet streams: a fan-out frame as one shared chunk', () => {
  let ts: TestServer;
  before(async () => {
    // No heartbeat or renewal during a test: only the fan-out writes to the streams.
    ts = await startServer({ maxIdleInterval: 60_000, maxCometStreamDuration: 120_000 });
  });
  after(() => ts.close());

  it('JSON and msgpack streams, parked and held by node:http: the same chunk per format, counted in bytes out', async () => {
    const channel = 'direct-plain';
    const msgpack = 'Accept: application/x-msgpack\r\n';
    const json = [await openStream(ts, channel), await openStream(ts, channel, { headers: 'Connection: close\r\n' })];
    const binary = [
      await openStream(ts, channel, { headers: msgpack }),
      await openStream(ts, channel, { headers: `${msgpack}Connection: close\r\n` }),
    ];
    const all = [...json, ...binary];
    // A kept-alive stream is parked; one whose client asked to close is never (node:http keeps it).
    await eventually(
      () => ts.server.inspect.connection(json[0]!.id)?.cometRecvParked === true,
      3000,
      'JSON stream parked',
    );
    await eventually(
      () => ts.server.inspect.connection(binary[0]!.id)?.cometRecvParked === true,
      3000,
      'msgpack stream parked',
    );
    assert.equal(ts.server.inspect.connection(json[1]!.id)?.cometRecvParked, false);
    assert.equal(ts.server.inspect.connection(binary[1]!.id)?.cometRecvParked, false);
    const before = all.map(({ raw }) => raw.chunks().length);
    const bytesBefore = ts.server.metrics.snapshot().bytesOut.comet;
    await rest(ts, 'json').channels.get(channel).publish('n', 'fan-out-1');
    await eventually(() => all.every(({ raw }, i) => raw.chunks().length === before[i]! + 1), 3000, 'one chunk each');
    const chunks = all.map(({ raw }) => raw.chunks().at(-1)!);
    for (const { raw } of all) assert.match(raw.head, /\r\nTransfer-Encoding: chunked(\r\n|$)/);
    // JSON: one line holding a one-element array, the frame's own text.
    const line = payloadOf(chunks[0]!).toString('utf8');
    assert.ok(line.endsWith(']\n') && line.startsWith('[{'), line);
    const [pm] = jsonLineMessages(line);
    assert.equal(pm!.action, Action.MESSAGE);
    assert.equal(pm!.messages?.[0]?.data, 'fan-out-1');
    assert.equal(chunks[0]!.subarray(0, chunks[0]!.indexOf(CRLF)).toString(), Buffer.byteLength(line).toString(16));
    assert.ok(chunks[1]!.equals(chunks[0]!), 'the same JSON chunk, parked or not');
    // msgpack: a one-element array of the same message.
    const decoded = batchOf(decode(payloadOf(chunks[2]!)));
    assert.equal(decoded.length, 1);
    assert.equal(decoded[0]!.action, Action.MESSAGE);
    assert.equal(decoded[0]!.messages?.[0]?.data, 'fan-out-1');
    assert.ok(chunks[3]!.equals(chunks[2]!), 'the same msgpack chunk, parked or not');
    // Bytes out: every chunk as written, framing included.
    const written = chunks.reduce((n, c) => n + c.length, 0);
    assert.equal(ts.server.metrics.snapshot().bytesOut.comet - bytesBefore, written);
    for (const { raw } of all) raw.socket.destroy();
  });

  for (const framing of [
    { name: 'SSE', query: '&envelope=sse', piece: /^id: [^\n]+\ndata: \[\{.*"fan-out-2".*\}\]\n\n$/s },
    {
      name: 'multipart',
      query: '&envelope=multipart',
      piece: /^Content-Type: application\/json\r\n\r\n\[\{.*"fan-out-2".*\}\]\r\n--encke-batch\r\n$/s,
    },
  ]) {
    it(`${framing.name}: the frame goes out in its framing, not as a plain line`, async () => {
      const channel = `direct-${framing.name}`;
      const { raw, id } = await openStream(ts, channel, { query: framing.query });
      await eventually(() => ts.server.inspect.connection(id)?.cometRecvParked === true, 3000, 'parked');
      const count = raw.chunks().length;
      await rest(ts, 'json').channels.get(channel).publish('n', 'fan-out-2');
      await eventually(() => raw.chunks().length > count, 3000, 'the piece');
      const piece = payloadOf(raw.chunks().at(-1)!).toString('utf8');
      assert.match(piece, framing.piece);
      raw.socket.destroy();
    });
  }

  it('HTTP/1.0 (no chunked encoding): the frame is the bare JSON line', async () => {
    const channel = 'direct-http10';
    const { raw } = await openStream(ts, channel, { version: '1.0' });
    assert.doesNotMatch(raw.head, /Transfer-Encoding/i);
    await rest(ts, 'json').channels.get(channel).publish('n', 'fan-out-3');
    await eventually(() => raw.text().includes('fan-out-3'), 3000, 'the frame');
    // Nothing but JSON lines (CONNECTED, ATTACHED, the message): no chunk size line anywhere.
    const lines = raw.text().split('\n');
    assert.equal(lines.pop(), '', 'the body ends with a whole line');
    for (const l of lines)
      assert.ok(l.startsWith('[{') && l.endsWith('}]'), `a bare line: ${JSON.stringify(l.slice(0, 20))}`);
    const last = jsonLineMessages(lines.at(-1)!);
    assert.equal(last[0]!.action, Action.MESSAGE);
    assert.equal(last[0]!.messages?.[0]?.data, 'fan-out-3');
    raw.socket.destroy();
  });
});

const TERMINATOR = Buffer.from('0\r\n\r\n');

const ended = (raw: RawStream): boolean => raw.body.subarray(-TERMINATOR.length).equals(TERMINATOR);

/**
 * Publishes on `channel` until every stream has ended (written to all along, a stream is ended right
 * after a fan-out frame once past its lifetime); returns after which publish each one ended.
 */
async function publishUntilEnded(ts: TestServer, channel: string, streams: { raw: RawStream }[]): Promise<number[]> {
  const endedAt = streams.map(() => -1);
  for (let i = 0; i < 100 && endedAt.includes(-1); i++) {
    await rest(ts, 'json').channels.get(channel).publish('n', `last-${i}`);
    await sleep(40);
    streams.forEach(({ raw }, s) => (endedAt[s] = endedAt[s] === -1 && ended(raw) ? i : endedAt[s]!));
  }
  return endedAt;
}

/**
 * A parked stream on `channel` ended by publishes past its lifetime, and its renewal (the next recv)
 * read on the parked socket; `first`: the client's bytes before the renewal's answer.
 */
async function renewedStream(ts: TestServer, channel: string): Promise<{ raw: RawStream; key: string; first: number }> {
  const stream = await openStream(ts, channel);
  const { raw, id, key } = stream;
  await eventually(() => ts.server.inspect.connection(id)?.cometRecvParked === true, 3000, 'parked');
  await publishUntilEnded(ts, channel, [stream]);
  const first = raw.bytes.length;
  const rawRecvs = ts.server.inspect.cometRawRecvs;
  raw.socket.write(`GET /comet/${key}/recv?${FULL} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  await eventually(() => ts.server.inspect.cometRawRecvs === rawRecvs + 1, 3000, 'renewal read raw');
  return { raw, key, first };
}

describe('comet streams: a stream past its lifetime ends with its last fan-out frame', () => {
  let ts: TestServer;
  before(async () => {
    // Streams live 500-1000 ms; the heartbeat pass visits each connection every second.
    ts = await startServer({ maxIdleInterval: 3000, maxCometStreamDuration: 1000 });
  });
  after(() => ts.close());

  it("JSON and msgpack: the frame's chunk and the end of the body in one write", async () => {
    const channel = 'direct-last';
    const spy = new SocketWriteSpy();
    try {
      const streams = [
        await openStream(ts, channel),
        await openStream(ts, channel, { headers: 'Accept: application/x-msgpack\r\n' }),
      ];
      const parked = (id: string): boolean => ts.server.inspect.connection(id)?.cometRecvParked === true;
      await eventually(() => streams.every(({ id }) => parked(id)), 3000, 'streams parked');
      const seen = streams.map(({ raw }) => raw.chunks().length);
      const bytesBefore = ts.server.metrics.snapshot().bytesOut.comet;
      const endedAt = await publishUntilEnded(ts, channel, streams);
      for (const { raw } of streams) {
        assert.ok(ended(raw), 'the stream ended');
        const chunks = raw.chunks();
        assert.ok(chunks.at(-1)!.equals(TERMINATOR), 'the body ends with the last chunk');
        const last = chunks.at(-2)!;
        assert.ok(payloadOf(last).includes('last-'), 'it ended right after a fan-out frame');
        const writes = spy.to(raw.socket);
        assert.deepEqual(writes.at(-1), Buffer.concat([last, TERMINATOR]), 'the frame and the end: one write');
        assert.ok(!writes.some((w) => w.equals(TERMINATOR)), 'no write of the end alone');
      }
      // Bytes out: every chunk written since, the last one included (the end of the body is not counted).
      const written = streams.flatMap(({ raw }, i) => raw.chunks().slice(seen[i], -1));
      const bytes = written.reduce((n, c) => n + c.length, 0);
      assert.equal(ts.server.metrics.snapshot().bytesOut.comet - bytesBefore, bytes);
      // The renewal, read on the parked socket, sends its head at once: the next frame is then one write.
      // (The stream that ended last: nothing was published after it, so nothing waits for its renewal.)
      const { raw, key } = streams[endedAt.indexOf(Math.max(...endedAt))]!;
      const renewal = spy.to(raw.socket).length;
      const rawRecvs = ts.server.inspect.cometRawRecvs;
      raw.socket.write(`GET /comet/${key}/recv?${FULL} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      await eventually(() => ts.server.inspect.cometRawRecvs === rawRecvs + 1, 3000, 'renewal read raw');
      const head = spy.to(raw.socket).slice(renewal);
      assert.equal(head.length, 1, 'the head, in the read that brought the renewal');
      const text = head[0]!.toString('latin1');
      assert.ok(text.startsWith('HTTP/1.1 200 OK\r\n') && text.endsWith('\r\n\r\n'), text);
      assert.ok(text.includes('\r\nTransfer-Encoding: chunked\r\n'), text);
      await rest(ts, 'json').channels.get(channel).publish('n', 'after-renewal');
      await eventually(() => raw.bytes.includes('after-renewal'), 3000, 'the frame on the renewed stream');
      const next = spy.to(raw.socket).slice(renewal + 1);
      assert.equal(next.length, 1, 'the frame in one write');
      assert.ok(next[0]!.includes('after-renewal') && !next[0]!.includes('HTTP/1.1'), next[0]!.toString());
      for (const { raw } of streams) raw.socket.destroy();
    } finally {
      spy.restore();
    }
  });
  it('a renewed stream ended before anything was written to it still carries an empty array', async () => {
    const channel = 'direct-renewed-empty';
    const { raw, key, first } = await renewedStream(ts, channel);
    // The client drops the transport: the held (already open) stream ends with nothing written to it.
    assert.equal((await cometRequest(ts.port, `/comet/${key}/disconnect?${FULL}`)).status, 204);
    await eventually(() => raw.bytes.length > first && ended(raw), 3000, 'the renewed stream ended');
    const second = raw.bytes.subarray(first);
    const body = second.subarray(second.indexOf(HEAD_END) + HEAD_END.length).toString('latin1');
    assert.equal(body, '3\r\n[]\n\r\n0\r\n\r\n');
    raw.socket.destroy();
  });

  it('a renewed stream that got fan-out frames ends with them, without an empty array', async () => {
    const channel = 'direct-renewed-frames';
    const { raw, key, first } = await renewedStream(ts, channel);
    // Fan-out frames go to the renewed stream straight to its socket (the transport's `direct`)...
    for (const data of ['renewed-1', 'renewed-2']) {
      await rest(ts, 'json').channels.get(channel).publish('n', data);
      await eventually(() => raw.bytes.subarray(first).includes(data), 3000, data);
    }
    // ...and the stream ends with them: the client drops the transport, the stream's end alone follows.
    assert.equal((await cometRequest(ts.port, `/comet/${key}/disconnect?${FULL}`)).status, 204);
    await eventually(() => ended(raw), 3000, 'the renewed stream ended');
    const second = raw.bytes.subarray(first);
    const body = second.subarray(second.indexOf(HEAD_END) + HEAD_END.length).toString('latin1');
    assert.match(body, /^[0-9a-f]+\r\n\[\{.*renewed-1.*\}\]\n\r\n[0-9a-f]+\r\n\[\{.*renewed-2.*\}\]\n\r\n0\r\n\r\n$/s);
    raw.socket.destroy();
  });
});

describe('comet streams: a stream cut by its client (fake clock: no visit ends the transport meanwhile)', () => {
  const suite = serverPerSuite({ clock: new FakeClock(Date.now()), maxIdleInterval: 15_000 });

  it('frames published after the cut wait for the next recv, none is written to the cut socket', async () => {
    const ts = suite.ts;
    const channel = 'direct-cut';
    const { raw, id, key } = await openStream(ts, channel);
    await rest(ts, 'json').channels.get(channel).publish('n', 'before-cut');
    await eventually(() => raw.bytes.includes('before-cut'), 3000, 'a frame written straight to the stream');
    raw.socket.destroy();
    await eventually(() => ts.server.inspect.connection(id)?.cometRecvHeld === false, 3000, 'the cut seen');
    const bytesOut = ts.server.metrics.snapshot().bytesOut.comet;
    await rest(ts, 'json').channels.get(channel).publish('n', 'after-cut');
    // (Waits for the fan-out: a recv opened before it would get the frame anyway.)
    await sleep(200);
    assert.equal(ts.server.metrics.snapshot().bytesOut.comet, bytesOut, 'nothing written while no recv is held');
    const next = new RawStream(ts.port, `GET /comet/${key}/recv?${FULL} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await eventually(() => next.bytes.includes('after-cut'), 3000, 'the frame on the next recv');
    next.socket.destroy();
  });
});
