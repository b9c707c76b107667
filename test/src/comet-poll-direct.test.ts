/**
 * A channel's fan-out to parked long polls (transports/comet/stream.ts `lastWay`, recv.ts
 * `answerParked`): a frame that reaches a parked plain poll is its whole answer (the frame's
 * shared head and body, in the format the poll's Accept asked for) in one socket write, counted in
 * bytes out; the poll is then over and the client's next recv takes the next frame. A client that
 * acknowledges its answers (`ack=`) still gets its position with each one. Over raw TCP sockets
 * (JSON and msgpack) and with the SDK (comet polling).
 */
import assert from 'node:assert/strict';
import { connect as tcpConnect, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { decode } from '@msgpack/msgpack';
import { Action, isArrayValue, isPlainObject, type ProtocolMessage } from '@encke/protocol';
import { closeAll, Collector, connect, eventually, realtime, rest, sleep, COMET_VARIANTS } from './helpers/ably.js';
import { jsonBatch } from './helpers/json.js';
import { cometRequest, MSGPACK_TYPE } from './helpers/raw-comet.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';
import { SocketWriteSpy } from './helpers/socket-write-spy.js';
import { field } from './helpers/field.js';

const FULL = `key=${encodeURIComponent(KEYS.full)}`;
const HEAD_END = '\r\n\r\n';

interface Response {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
  /** The response's bytes as received (head and body). */
  bytes: Buffer;
}

/** A long-polling client on one raw socket: writes heads, reads whole Content-Length responses. */
class RawPoller {
  private data = Buffer.alloc(0);
  readonly socket: Socket;
  id = '';
  key = '';
  /** The connect's answer's position (an acknowledging client's). */
  position = 0;

  constructor(
    port: number,
    /** Extra query of every recv (`&ack=…` is added by `recv`). */
    private readonly accept: string,
  ) {
    this.socket = tcpConnect(port, '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => (this.data = Buffer.concat([this.data, chunk])));
    this.socket.on('error', () => undefined);
  }

  send(head: string): void {
    this.socket.write(Buffer.from(head, 'latin1'));
  }

  recv(query = ''): void {
    this.send(`GET /comet/${this.key}/recv?${FULL}${query} HTTP/1.1\r\nHost: x\r\n${this.accept}\r\n`);
  }

  async response(what: string): Promise<Response> {
    let res: Response | undefined;
    await eventually(() => (res = this.take()) !== undefined, 5000, what);
    return res!;
  }

  /** Nothing arrived beyond the responses taken. */
  get idle(): boolean {
    return this.data.length === 0;
  }

  private take(): Response | undefined {
    const end = this.data.indexOf(HEAD_END);
    if (end < 0) return undefined;
    const [status, ...lines] = this.data.subarray(0, end).toString('latin1').split('\r\n');
    const headers = new Map(
      lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
    );
    const length = Number(headers.get('content-length') ?? 0);
    const total = end + HEAD_END.length + length;
    if (this.data.length < total) return undefined;
    const bytes = this.data.subarray(0, total);
    this.data = this.data.subarray(total);
    return { status: Number(status!.split(' ')[1]), headers, body: bytes.subarray(end + HEAD_END.length), bytes };
  }
}

/** A ProtocolMessage as a server writes it: an object with a numeric action. */
const isWireMessage = (value: unknown): value is ProtocolMessage =>
  isPlainObject(value) && typeof value.action === 'number';

/** The messages of a poll's answer, JSON or msgpack. */
function messagesOf(res: Response): ProtocolMessage[] {
  if (res.headers.get('content-type') !== MSGPACK_TYPE) return jsonBatch(res.body.toString('utf8'));
  const decoded: unknown = decode(res.body);
  if (!isArrayValue(decoded) || !decoded.every(isWireMessage)) throw new Error('not a msgpack batch');
  return [...decoded];
}

describe('comet: a fan-out frame answers a parked long poll in one write', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer({ maxIdleInterval: 3000 });
  });
  after(() => ts.close());

  const parked = (id: string): boolean => ts.server.inspect.connection(id)?.cometRecvParked === true;

  /** A polling connection attached to `channel`, its recv parked (read raw on its socket). */
  async function poller(channel: string, accept: string, connectQuery = ''): Promise<RawPoller> {
    const client = new RawPoller(ts.port, accept);
    client.send(
      `GET /comet/connect?${FULL}&heartbeats=true&v=6&stream=false${connectQuery} HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    const answer = await client.response('CONNECTED');
    client.position = Number(answer.headers.get('x-encke-position') ?? 0);
    const connected = messagesOf(answer)[0]!;
    client.id = connected.connectionId!;
    client.key = connected.connectionDetails!.connectionKey!;
    const body = encodeURIComponent(JSON.stringify([{ action: Action.ATTACH, channel }]));
    assert.equal((await cometRequest(ts.port, `/comet/${client.key}/send?${FULL}&body=${body}`)).status, 204);
    return client;
  }

  it('JSON and msgpack polls: the frame’s whole answer, one write each, counted; the next recv gets the next frame', async () => {
    const channel = 'poll-direct';
    const pollers = [
      await poller(channel, ''),
      await poller(channel, ''),
      await poller(channel, `Accept: ${MSGPACK_TYPE}\r\n`),
    ];
    // The ATTACHED answers the recv the connect's client sent first; the next one is read raw and parked.
    for (const p of pollers) {
      p.recv();
      assert.equal(messagesOf(await p.response('ATTACHED'))[0]!.action, Action.ATTACHED);
      p.recv();
      await eventually(() => parked(p.id), 3000, 'recv parked');
    }
    const spy = new SocketWriteSpy();
    try {
      for (const round of [1, 2, 3]) {
        const bytesBefore = ts.server.metrics.snapshot().bytesOut.comet;
        const writesBefore = pollers.map((p) => spy.to(p.socket).length);
        await rest(ts, round === 2 ? 'msgpack' : 'json')
          .channels.get(channel)
          .publish('m', `fan-out-${round}`);
        const answers = await Promise.all(pollers.map((p) => p.response(`answer ${round}`)));
        let bodies = 0;
        answers.forEach((res, i) => {
          assert.equal(res.status, 200);
          const [pm, ...rest] = messagesOf(res);
          assert.equal(rest.length, 0, 'one frame');
          assert.equal(pm!.action, Action.MESSAGE);
          assert.equal(pm!.messages?.[0]?.data, `fan-out-${round}`);
          assert.equal(res.headers.get('content-type'), i === 2 ? MSGPACK_TYPE : 'application/json');
          assert.equal(res.headers.get('x-encke-position'), undefined, 'no position: the client does not acknowledge');
          const writes = spy.to(pollers[i]!.socket).slice(writesBefore[i]);
          assert.equal(writes.length, 1, 'the whole answer in one write');
          assert.deepEqual(writes[0], res.bytes);
          bodies += res.body.length;
        });
        assert.equal(ts.server.metrics.snapshot().bytesOut.comet - bytesBefore, bodies, 'bytes out: the bodies');
        // The poll is over: nothing more on it until the next recv, which the next frame answers.
        await sleep(50);
        for (const p of pollers) {
          assert.ok(p.idle, 'nothing after the answer');
          p.recv();
          await eventually(() => parked(p.id), 3000, 'next recv parked');
        }
      }
    } finally {
      spy.restore();
      for (const p of pollers) p.socket.destroy();
    }
  });

  it('an acknowledging poll still gets its position with a fan-out frame, and the frame again if it was lost', async () => {
    const channel = 'poll-direct-ack';
    const p = await poller(channel, '', '&ack=0');
    assert.ok(p.position > 0, 'CONNECTED with a position');
    p.recv(`&ack=${p.position}`);
    const attached = await p.response('ATTACHED');
    assert.equal(messagesOf(attached)[0]!.action, Action.ATTACHED);
    const position = Number(attached.headers.get('x-encke-position'));
    assert.ok(position > 0, 'ATTACHED with a position');
    p.recv(`&ack=${position}`);
    await eventually(() => parked(p.id), 3000, 'recv parked');
    await rest(ts, 'json').channels.get(channel).publish('m', 'acked-1');
    const first = await p.response('answer');
    assert.equal(messagesOf(first)[0]!.messages?.[0]?.data, 'acked-1');
    assert.equal(Number(first.headers.get('x-encke-position')), position + 1, 'the answer’s position');
    // As if that answer was lost: the recv confirms only the position before it, and gets it again.
    p.recv(`&ack=${position}&wait=0`);
    const again = await p.response('again');
    assert.deepEqual(
      messagesOf(again).map((pm) => pm.messages?.[0]?.data),
      ['acked-1'],
    );
    p.socket.destroy();
  });

  it('the SDK polling: consecutive messages, each to a parked poll', async () => {
    const variant = COMET_VARIANTS.find((v) => v.name === 'comet polling')!;
    const client = await connect(realtime(ts, variant));
    try {
      const channel = client.channels.get('poll-direct-sdk');
      const got = new Collector();
      await channel.subscribe(got.listener);
      const id = client.connection.id!;
      for (const [i, format] of (['json', 'msgpack', 'json'] as const).entries()) {
        await eventually(() => parked(id), 3000, 'recv parked');
        await rest(ts, format).channels.get('poll-direct-sdk').publish('m', `sdk-${i}`);
        await got.waitFor(i + 1);
      }
      assert.deepEqual(
        got.items.map((m) => field(m, 'data')),
        ['sdk-0', 'sdk-1', 'sdk-2'],
      );
    } finally {
      await closeAll(client);
    }
  });
});
