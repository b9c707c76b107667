/**
 * What parked comet recvs put on the wire, byte for byte (packages/server/src/http/parked.ts and
 * raw-answer.ts write them raw, without node:http): a frame fanned out to parked long polls is one
 * whole response per poll, made once and shared, with each poll's own header lines (CORS) kept to
 * that poll; a parked stream's batches, heartbeats and end are valid chunked encoding in every
 * envelope; a parked stream whose client stops reading is dropped as a slow consumer.
 */
import assert from 'node:assert/strict';
import { connect as tcpConnect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Action, type ProtocolMessage } from '@encke/protocol';
import { eventually, rest } from './helpers/ably.js';
import { jsonBatch } from './helpers/json.js';
import { cometRequest } from './helpers/raw-comet.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

const FULL = `key=${encodeURIComponent(KEYS.full)}`;
const DATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/;
const HEAD_END = '\r\n\r\n';

interface RawResponse {
  status: string;
  /** Header lines as sent, lower-cased names. */
  headers: [string, string][];
  /** The body; for a chunked response, the chunks' payloads joined (strictly decoded). */
  body: Buffer;
  /** A chunked response's terminating chunk was read. */
  ended: boolean;
}

function header(res: RawResponse, name: string): string[] {
  return res.headers.filter(([n]) => n === name).map(([, v]) => v);
}

/**
 * Decodes the responses in `bytes`: whole Content-Length responses, and a chunked one as far as
 * its chunks are complete. Throws on anything that is not valid HTTP/1.1 framing.
 */
function parseResponses(bytes: Buffer): RawResponse[] {
  const out: RawResponse[] = [];
  let at = 0;
  while (at < bytes.length) {
    const headEnd = bytes.indexOf(HEAD_END, at, 'latin1');
    if (headEnd < 0) break;
    const [status, ...lines] = bytes.subarray(at, headEnd).toString('latin1').split('\r\n');
    assert.match(status!, /^HTTP\/1\.1 \d{3} /);
    const headers = lines.map((line): [string, string] => {
      const colon = line.indexOf(': ');
      assert.ok(colon > 0, `header line ${JSON.stringify(line)}`);
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 2)];
    });
    at = headEnd + HEAD_END.length;
    const res: RawResponse = { status: status!, headers, body: Buffer.alloc(0), ended: false };
    out.push(res);
    const length = headers.find(([n]) => n === 'content-length');
    if (length) {
      res.body = bytes.subarray(at, at + Number(length[1]));
      assert.equal(res.body.length, Number(length[1]), 'the whole body arrived');
      at += res.body.length;
      res.ended = true;
      continue;
    }
    assert.deepEqual(header(res, 'transfer-encoding'), ['chunked']);
    const chunks: Buffer[] = [];
    for (;;) {
      const lineEnd = bytes.indexOf('\r\n', at, 'latin1');
      if (lineEnd < 0) break;
      const size = bytes.subarray(at, lineEnd).toString('latin1');
      assert.match(size, /^[0-9a-f]+$/, 'a chunk starts with its size in hex');
      const n = parseInt(size, 16);
      if (bytes.length < lineEnd + 2 + n + 2) break;
      assert.equal(
        bytes.subarray(lineEnd + 2 + n, lineEnd + 4 + n).toString('latin1'),
        '\r\n',
        'a chunk ends with CRLF',
      );
      chunks.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + n));
      at = lineEnd + 4 + n;
      if (n === 0) {
        res.ended = true;
        break;
      }
    }
    res.body = Buffer.concat(chunks);
    if (!res.ended) break;
  }
  return out;
}

/** A raw TCP client: everything read, kept. */
class RawClient {
  readonly socket: Socket;
  bytes = Buffer.alloc(0);

  constructor(port: number) {
    this.socket = tcpConnect(port, '127.0.0.1');
    this.socket.on('error', () => undefined);
    this.socket.on('data', (chunk: Buffer) => (this.bytes = Buffer.concat([this.bytes, chunk])));
  }

  get(path: string, headers: Record<string, string> = {}): void {
    let head = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    this.socket.write(`${head}\r\n`);
  }

  responses(): RawResponse[] {
    return parseResponses(this.bytes);
  }

  async response(n: number, what: string): Promise<RawResponse> {
    await eventually(() => this.responses().filter((r) => r.ended).length >= n, 5000, what);
    return this.responses()[n - 1]!;
  }
}

function batches(body: Buffer): ProtocolMessage[][] {
  return body
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => jsonBatch(line));
}

async function send(ts: TestServer, key: string, messages: ProtocolMessage[]): Promise<void> {
  const body = encodeURIComponent(JSON.stringify(messages));
  const res = await cometRequest(ts.port, `/comet/${key}/send?${FULL}&body=${body}`);
  assert.equal(res.status, 204);
}

describe('comet on the wire: parked long polls fanned out to', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer({});
  });
  after(async () => {
    await ts.close();
  });

  /** A polling connection attached to `channel`, its recv socket with the ATTACHED answer read. */
  async function poller(
    channel: string,
    origin: string | undefined,
  ): Promise<{ id: string; key: string; raw: RawClient }> {
    const res = await cometRequest(ts.port, `/comet/connect?${FULL}&v=6&stream=false`);
    const connected = res.batches[0]![0]!;
    assert.equal(connected.action, Action.CONNECTED);
    const key = connected.connectionDetails!.connectionKey!;
    await send(ts, key, [{ action: Action.ATTACH, channel }]);
    const raw = new RawClient(ts.port);
    raw.get(`/comet/${key}/recv?${FULL}`, origin ? { Origin: origin } : {});
    assert.equal(batches((await raw.response(1, 'ATTACHED')).body)[0]![0]!.action, Action.ATTACHED);
    return { id: connected.connectionId!, key, raw };
  }

  it('every poll gets the frame in one whole response, its own CORS lines only, twice over one socket', async () => {
    const origins = ['https://one.example', undefined, 'https://two.example', undefined];
    const polls = await Promise.all(origins.map((origin) => poller('fan', origin)));
    const publisher = rest(ts, 'json').channels.get('fan');
    for (const round of [2, 3]) {
      polls.forEach(({ key, raw }, i) =>
        raw.get(`/comet/${key}/recv?${FULL}`, origins[i] ? { Origin: origins[i] } : {}),
      );
      for (const { id } of polls)
        await eventually(() => ts.server.inspect.connection(id)?.cometRecvParked === true, 3000, 'recv parked');
      await publisher.publish('n', `round ${round}`);
      const answers = await Promise.all(polls.map(({ raw }) => raw.response(round, `answer ${round}`)));
      answers.forEach((res, i) => {
        assert.equal(res.status, 'HTTP/1.1 200 OK');
        assert.deepEqual(header(res, 'content-type'), ['application/json']);
        assert.deepEqual(header(res, 'content-length'), [String(res.body.length)]);
        assert.deepEqual(header(res, 'connection'), ['keep-alive']);
        assert.deepEqual(header(res, 'keep-alive'), ['timeout=5']);
        assert.equal(header(res, 'date').length, 1);
        assert.match(header(res, 'date')[0]!, DATE);
        // Each poll's own origin, and none for a poll that sent none: nothing of another poll's.
        assert.deepEqual(header(res, 'access-control-allow-origin'), origins[i] ? [origins[i]] : []);
        assert.deepEqual(header(res, 'vary'), origins[i] ? ['Origin'] : []);
        const [[message]] = batches(res.body) as [[ProtocolMessage]];
        assert.equal(message.action, Action.MESSAGE);
        assert.equal(message.messages![0]!.data, `round ${round}`);
        assert.deepEqual(res.body, answers[0]!.body);
      });
      // Polls with the same header lines get the same bytes, Date aside (a second may turn).
      const withoutDate = (res: RawResponse): string[] => res.headers.filter(([n]) => n !== 'date').map(String);
      assert.deepEqual(withoutDate(answers[1]!), withoutDate(answers[3]!));
    }
    for (const { raw } of polls) raw.socket.destroy();
  });

  it("closes an answered parked poll's idle socket after the Keep-Alive timeout it announced, not before", async () => {
    const { id, key, raw } = await poller('idle-after', undefined);
    try {
      const closed = new Promise<number>((resolve) => raw.socket.on('close', () => resolve(performance.now())));
      raw.get(`/comet/${key}/recv?${FULL}`);
      await eventually(() => ts.server.inspect.connection(id)?.cometRecvParked === true, 3000, 'recv parked');
      await rest(ts, 'json').channels.get('idle-after').publish('n', 'last');
      const answer = await raw.response(2, 'the answer');
      const answeredAt = performance.now();
      const timeout = Number(/timeout=(\d+)/.exec(header(answer, 'keep-alive')[0]!)![1]) * 1000;
      const late = new Promise<number>((resolve) => setTimeout(() => resolve(Infinity), 3 * timeout).unref());
      const elapsed = (await Promise.race([closed, late])) - answeredAt;
      // Read a moment after it was written: a little slack below; one shared sweep: up to twice above.
      assert.ok(elapsed >= timeout - 200, `closed ${Math.round(elapsed)} ms after the answer, before ${timeout}`);
      assert.ok(elapsed <= 2 * timeout + 1000, `closed ${Math.round(elapsed)} ms after the answer`);
    } finally {
      raw.socket.destroy();
    }
  });
});

/** Each envelope: its query, and what its stream's body must start and end with. */
const ENVELOPES: { name: string; query: string; type: RegExp; first: string; last: string }[] = [
  { name: 'JSON lines', query: '', type: /^application\/json$/, first: '[{', last: ']\n' },
  { name: 'SSE', query: '&envelope=sse', type: /^text\/event-stream/, first: 'retry: ', last: '\n\n' },
  {
    name: 'forever-iframe',
    query: `&envelope=htmlfile&origin=${encodeURIComponent('https://page.example')}`,
    type: /^text\/html/,
    first: '<!DOCTYPE html>',
    last: '</body></html>\n',
  },
  {
    name: 'multipart',
    query: '&envelope=multipart',
    type: /^multipart\/x-mixed-replace; boundary=/,
    first: '--encke-batch\r\n',
    last: '--encke-batch--\r\n',
  },
];

describe('comet on the wire: parked streams', () => {
  let ts: TestServer;
  before(async () => {
    // A HEARTBEAT after 200 ms without output; every stream is recycled within 2-4 s.
    ts = await startServer({ maxIdleInterval: 600, maxCometStreamDuration: 4000 });
  });
  after(async () => {
    await ts.close();
  });

  for (const envelope of ENVELOPES) {
    it(`${envelope.name}: batches, a heartbeat between them and the end are valid chunked encoding`, async () => {
      const raw = new RawClient(ts.port);
      raw.get(`/comet/connect?${FULL}&v=6&heartbeats=true${envelope.query}`);
      const text = (): string => raw.responses()[0]?.body.toString('utf8') ?? '';
      await eventually(() => /"connectionKey":"[^"]+"/.test(text()), 3000, 'CONNECTED');
      const key = /"connectionKey":"([^"]+)"/.exec(text())![1]!;
      const id = /"connectionId":"([^"]+)"/.exec(text())![1]!;
      await eventually(() => ts.server.inspect.connection(id)?.cometRecvParked === true, 3000, 'stream parked');
      const channel = `wire-${envelope.name.replace(/\W/g, '')}`;
      await send(ts, key, [{ action: Action.ATTACH, channel }]);
      await eventually(() => text().includes(`"channel":"${channel}"`), 3000, 'ATTACHED');
      const publisher = rest(ts, 'json').channels.get(channel);
      for (const data of ['m-1', 'm-2', 'm-3']) await publisher.publish('n', data);
      await eventually(() => text().includes('m-3'), 3000, 'm-3');
      const afterM3 = (): string => text().slice(text().indexOf('m-3'));
      await eventually(() => afterM3().includes(`"action":${Action.HEARTBEAT}`), 3000, 'a heartbeat after m-3');
      for (const data of ['m-4', 'm-5']) await publisher.publish('n', data);
      // The stream is recycled: its last chunk, the envelope's end, then the terminating chunk.
      const res = await raw.response(1, 'the stream ends');
      assert.equal(res.status, 'HTTP/1.1 200 OK');
      assert.match(header(res, 'content-type')[0]!, envelope.type);
      const body = res.body.toString('utf8');
      assert.ok(body.startsWith(envelope.first), body.slice(0, 40));
      assert.ok(body.endsWith(envelope.last), body.slice(-40));
      const order = [
        `"action":${Action.CONNECTED}`,
        `"action":${Action.ATTACHED}`,
        'm-1',
        'm-2',
        'm-3',
        `"action":${Action.HEARTBEAT}`,
        'm-4',
        'm-5',
      ];
      let from = 0;
      for (const piece of order) {
        const at = body.indexOf(piece, from);
        assert.ok(at >= from, `${piece} after what came before it`);
        from = at;
      }
      raw.socket.destroy();
    });
  }

  it('a parked stream whose client stops reading is dropped as a slow consumer', async () => {
    const small = await startServer({ maxOutboundBuffer: 64 * 1024 });
    try {
      const raw = new RawClient(small.port);
      raw.get(`/comet/connect?${FULL}&v=6`);
      const text = (): string => raw.responses()[0]?.body.toString('utf8') ?? '';
      await eventually(() => /"connectionKey":"[^"]+"/.test(text()), 3000, 'CONNECTED');
      const key = /"connectionKey":"([^"]+)"/.exec(text())![1]!;
      const id = /"connectionId":"([^"]+)"/.exec(text())![1]!;
      await eventually(() => small.server.inspect.connection(id)?.cometRecvParked === true, 3000, 'stream parked');
      await send(small, key, [{ action: Action.ATTACH, channel: 'backed-up' }]);
      await eventually(() => text().includes('"channel":"backed-up"'), 3000, 'ATTACHED');
      raw.socket.pause();
      const publisher = rest(small, 'json').channels.get('backed-up');
      const big = 'x'.repeat(60 * 1024);
      for (let i = 0; i < 200 && small.server.metrics.snapshot().slowConsumerDisconnects.comet === 0; i++)
        await publisher.publish('n', big);
      assert.equal(small.server.metrics.snapshot().slowConsumerDisconnects.comet, 1);
      // The transport is gone (its socket cut); the connection stays resumable.
      await eventually(() => small.server.inspect.connection(id)?.transport === null, 3000, 'transport gone');
      raw.socket.destroy();
    } finally {
      await small.close();
    }
  });
});
