/**
 * Acknowledged polling (docs/protocol.md "Acknowledged polling"): a client that connects with
 * `ack=0` gets each polled answer with its position (X-Encke-Position, or inside the JSONP
 * envelope) and confirms it with `ack=<position>` on its next recv; an answer that never reached
 * it (a browser silently re-sending a GET whose connection was cut) is written again. Driven with
 * plain HTTP requests, as a raw comet client would: a lost answer is re-sent, a duplicate ack is
 * harmless, retention is bounded (past it the client resumes), bad `ack` values are refused, and a
 * client that sends no ack (ably-js) is answered exactly as before.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Action, Err, type ProtocolMessage } from '@encke/protocol';
import { OutboundFrame, RecvReplay } from '@encke/server/internal';
import { rest } from './helpers/ably.js';
import { runJsonp } from './helpers/jsonp.js';
import { cometRequest, MSGPACK_TYPE } from './helpers/raw-comet.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';
import { bodyErrorIfAny, bodyError } from './helpers/json.js';

const K = `key=${encodeURIComponent(KEYS.full)}`;
const POSITION = 'x-encke-position';

type Framing = 'json' | 'msgpack' | 'jsonp';

/** One polled answer: its messages and position, whatever the framing. */
interface Answer {
  status: number;
  messages: ProtocolMessage[];
  position: number | undefined;
  error: { code: number } | undefined;
}

/** A polling client that decides itself which answers it "received" (the others are lost). */
class Poller {
  key = '';
  connectionId = '';

  constructor(
    private readonly ts: TestServer,
    readonly framing: Framing,
  ) {}

  private query(extra: string): string {
    const f =
      this.framing === 'jsonp' ? '&envelope=jsonp&callback=cb' : this.framing === 'msgpack' ? '&format=msgpack' : '';
    return `${K}${f}${extra}`;
  }

  async get(path: string): Promise<Answer> {
    if (this.framing === 'jsonp') return this.jsonp(path);
    const res = await cometRequest(this.ts.port, path, {
      headers: this.framing === 'msgpack' ? { accept: MSGPACK_TYPE } : {},
    });
    const header = res.headers[POSITION];
    const error = bodyErrorIfAny(res.body);
    return {
      status: res.status,
      messages: res.batches.flat(),
      position: header === undefined ? undefined : Number(header),
      error,
    };
  }

  /** A script-tag request: the answer run as the browser would run it. */
  private async jsonp(path: string): Promise<Answer> {
    const raw = await fetch(`http://127.0.0.1:${this.ts.port}${path}`);
    const envelope = runJsonp(await raw.text());
    assert.ok(envelope, 'a JSONP answer');
    const messages = Array.isArray(envelope.response) ? envelope.response : [];
    const error = Array.isArray(envelope.response) ? undefined : envelope.response?.error;
    const header = envelope.headers?.['X-Encke-Position'];
    return {
      status: envelope.statusCode,
      messages,
      position: header === undefined ? undefined : Number(header),
      error,
    };
  }

  async connect(extra = '&ack=0'): Promise<Answer> {
    const a = await this.get(`/comet/connect?${this.query(`&v=6&stream=false${extra}`)}`);
    const connected = a.messages.find((pm) => pm.action === Action.CONNECTED);
    assert.ok(connected, `CONNECTED in ${JSON.stringify(a)}`);
    this.key = connected.connectionDetails!.connectionKey;
    this.connectionId = connected.connectionId!;
    return a;
  }

  /** A recv: `ack` is the position confirmed (undefined: none sent); `wait0` answers at once. */
  recv(ack: number | undefined, wait0 = true): Promise<Answer> {
    return this.get(
      `/comet/${this.key}/recv?${this.query(`${ack === undefined ? '' : `&ack=${ack}`}${wait0 ? '&wait=0' : ''}`)}`,
    );
  }

  async attach(channel: string): Promise<void> {
    const res = await cometRequest(this.ts.port, `/comet/${this.key}/send?${K}`, {
      method: 'POST',
      body: JSON.stringify([{ action: Action.ATTACH, channel }]),
    });
    assert.equal(res.status, 204);
  }
}

const names = (pms: ProtocolMessage[]): string[] =>
  pms.filter((pm) => pm.action === Action.MESSAGE).flatMap((pm) => pm.messages!.map((m) => m.name!));

/** Publishes `list` on `channel` one by one (each its own MESSAGE frame). */
async function publish(ts: TestServer, channel: string, list: string[]): Promise<void> {
  const ch = rest(ts, 'json').channels.get(channel);
  for (const n of list) await ch.publish(n, 'x');
}

/** Polls (wait=0, acking `ack`) until `count` messages named on `channel` arrived or time runs out. */
async function pollFor(p: Poller, ack: number, count: number): Promise<Answer> {
  const deadline = Date.now() + 5000;
  let all: ProtocolMessage[] = [];
  let position = ack;
  for (;;) {
    const a = await p.recv(position);
    all = [...all, ...a.messages];
    position = a.position ?? position;
    if (names(all).length >= count || Date.now() > deadline) return { ...a, messages: all, position };
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('comet: acknowledged polling', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer({});
  });
  after(() => ts.close());

  for (const framing of ['json', 'msgpack', 'jsonp'] as const) {
    it(`${framing}: every answer carries its position; a lost answer is written again before what is new`, async () => {
      const p = new Poller(ts, framing);
      const connected = await p.connect();
      assert.equal(connected.position, connected.messages.length, 'the connect answer: its CONNECTED');
      const channel = `ack-lost-${framing}`;
      await p.attach(channel);
      const attached = await p.recv(connected.position);
      assert.ok(attached.messages.some((pm) => pm.action === Action.ATTACHED));
      const start = attached.position!;
      assert.equal(start, connected.position! + attached.messages.length);
      await publish(ts, channel, ['a', 'b']);
      const lost = await pollFor(p, start, 2);
      assert.deepEqual(names(lost.messages), ['a', 'b']);
      // That answer never arrived: the next recv confirms `start` again, after another publish.
      await publish(ts, channel, ['c']);
      const again = await p.recv(start);
      assert.deepEqual(names(again.messages), ['a', 'b', 'c'], 'the lost frames first, then the new one');
      assert.equal(again.position, start + again.messages.length);
      // Received: confirming it leaves nothing to send again.
      const next = await p.recv(again.position);
      assert.deepEqual(names(next.messages), []);
      assert.equal(next.position, again.position);
      assert.equal(ts.server.inspect.connection(p.connectionId)?.state, 'connected');
    });
  }

  it('a held long-poll answer cut on the way is written again to the browser-style retry of the same recv', async () => {
    const p = new Poller(ts, 'json');
    const connected = await p.connect();
    await p.attach('ack-held');
    const attached = await p.recv(connected.position);
    const start = attached.position!;
    // The recv is held (no wait=0) until the publish; its answer is the one "lost".
    const held = p.recv(start, false);
    await new Promise((r) => setTimeout(r, 50));
    await publish(ts, 'ack-held', ['x']);
    assert.deepEqual(names((await held).messages), ['x']);
    // The same request again, as Chromium re-sends it: the same frames, the same position.
    const retried = await p.recv(start);
    assert.deepEqual(names(retried.messages), ['x']);
    assert.equal(retried.position, (await held).position);
  });

  it('a duplicate ack is harmless: the same answer again, nothing repeated once confirmed', async () => {
    const p = new Poller(ts, 'json');
    const connected = await p.connect();
    await p.attach('ack-dup');
    const start = (await p.recv(connected.position)).position!;
    await publish(ts, 'ack-dup', ['d']);
    const first = await pollFor(p, start, 1);
    const second = await p.recv(start);
    const third = await p.recv(start);
    assert.deepEqual(names(second.messages), ['d']);
    assert.deepEqual(third, second, 'the same ack twice: the same answer');
    await publish(ts, 'ack-dup', ['e']);
    const rest1 = await pollFor(p, third.position!, 1);
    assert.deepEqual(names(rest1.messages), ['e'], 'after confirming, only what is new');
    assert.equal(first.position, second.position);
  });

  it('a client that sends no ack is answered as before: no position, and a lost answer stays lost', async () => {
    const p = new Poller(ts, 'json');
    const connected = await p.connect('');
    assert.equal(connected.position, undefined);
    await p.attach('no-ack');
    await p.recv(undefined);
    await publish(ts, 'no-ack', ['m']);
    const delivered = await (async () => {
      for (let i = 0; i < 100; i++) {
        const a = await p.recv(undefined);
        if (names(a.messages).length > 0) return a;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error('no message');
    })();
    assert.equal(delivered.position, undefined);
    assert.deepEqual(names((await p.recv(undefined)).messages), [], 'nothing is written twice without an ack');
  });

  it('exposes X-Encke-Position to cross-origin pages', async () => {
    const res = await cometRequest(ts.port, `/comet/connect?${K}&v=6&stream=false&ack=0`, {
      headers: { origin: 'http://page.example' },
    });
    assert.match(String(res.headers['access-control-expose-headers']), /X-Encke-Position/);
    assert.equal(res.headers[POSITION], '1');
  });

  const bad: [string, string, string][] = [
    ['a non-numeric ack on a recv', 'recv', '&ack=abc'],
    ['a negative ack on a recv', 'recv', '&ack=-1'],
    ['an ack of 16 digits', 'recv', '&ack=1234567890123456'],
    ['an ack on a streamed recv', 'recv', '&ack=1&stream=true'],
    ['an ack on an SSE recv', 'recv', '&ack=1&envelope=sse'],
    ['ack other than 0 on connect', 'connect', '&stream=false&ack=3'],
    ['ack on a streamed connect', 'connect', '&ack=0'],
  ];
  for (const [what, op, query] of bad) {
    it(`refuses ${what} (40003), the connection untouched`, async () => {
      const p = new Poller(ts, 'json');
      await p.connect();
      const before = ts.server.inspect.connections;
      const path = op === 'connect' ? `/comet/connect?${K}&v=6${query}` : `/comet/${p.key}/recv?${K}${query}`;
      const res = await cometRequest(ts.port, path);
      assert.equal(res.status, 400);
      assert.equal(bodyError(res.body).code, Err.invalidParameterValue.code);
      assert.equal(ts.server.inspect.connections, before);
      assert.equal(ts.server.inspect.connection(p.connectionId)?.state, 'connected');
    });
  }

  it('a position never written is not one to continue from: 80022, and the client resumes', async () => {
    const p = new Poller(ts, 'json');
    const connected = await p.connect();
    const res = await p.recv(connected.position! + 5);
    assert.equal(res.status, 400);
    assert.equal(res.error?.code, Err.connectionNotFound.code);
  });
});

describe('comet: acknowledged polling keeps a bounded number of frames', () => {
  const LIMIT = 8;
  let ts: TestServer;
  before(async () => {
    // maxCometQueue below the 512 kept by default: the replay keeps min(maxCometQueue, 512).
    ts = await startServer({ maxCometQueue: LIMIT });
  });
  after(() => ts.close());

  it(`past ${LIMIT} unconfirmed frames the recv is refused with 80022; the resume (ack=0) continues the connection`, async () => {
    const p = new Poller(ts, 'json');
    const connected = await p.connect();
    await p.attach('bounded');
    const start = (await p.recv(connected.position)).position!;
    let sent = 0;
    let refused: Answer | undefined;
    let position = start;
    // Never confirm anything after `start`: each answer carries everything since, until more than
    // the limit would have to be kept (an answer itself may carry more: what was kept plus the queue).
    for (let round = 0; round < 10 && !refused; round++) {
      await publish(ts, 'bounded', ['m' + sent, 'm' + (sent + 1)]);
      sent += 2;
      for (let tries = 0; tries < 100; tries++) {
        const a = await p.recv(start);
        if (a.status !== 200) {
          refused = a;
          break;
        }
        assert.ok(
          position - start <= LIMIT,
          `answered although ${position - start} frames since ${start} were written`,
        );
        const got = names(a.messages);
        assert.deepEqual(
          got,
          Array.from({ length: got.length }, (_, i) => 'm' + i),
          'everything since the confirmed position, in order',
        );
        position = a.position!;
        if (got.length === sent) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    assert.ok(refused, 'refused once more than the limit is unconfirmed');
    assert.ok(position - start > LIMIT, `refused only past the limit (${position - start} frames)`);
    assert.equal(refused.error?.code, Err.connectionNotFound.code);
    // The client's way back: resume with a new acknowledged transport.
    const resumed = await new Poller(ts, 'json').get(
      `/comet/connect?${K}&v=6&stream=false&ack=0&resume=${encodeURIComponent(p.key)}`,
    );
    const connectedAgain = resumed.messages.find((pm) => pm.action === Action.CONNECTED);
    assert.equal(connectedAgain?.connectionId, p.connectionId);
    assert.equal(connectedAgain?.error, undefined);
    assert.equal(resumed.position, resumed.messages.length);
  });
});

describe('RecvReplay (unit, property-based)', () => {
  it('after(c) returns exactly the frames written after c while c is kept, and forgets the rest', () => {
    const frame = (n: number): OutboundFrame => new OutboundFrame({ action: Action.MESSAGE, id: String(n) });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.oneof(fc.record({ write: fc.integer({ min: 0, max: 6 }) }), fc.record({ confirm: fc.nat(60) })), {
          maxLength: 40,
        }),
        (limit, ops) => {
          const replay = new RecvReplay(limit);
          let written = 0;
          // The model: the oldest position still continuable.
          let base = 0;
          for (const op of ops) {
            if ('write' in op) {
              const frames = Array.from({ length: op.write }, (_, i) => frame(written + i));
              written += op.write;
              base = Math.max(base, written - limit);
              assert.equal(replay.record(frames), written);
              continue;
            }
            const c = op.confirm;
            const again = replay.after(c);
            if (c < base || c > written) {
              assert.equal(again, undefined, `position ${c} outside [${base}, ${written}]`);
              continue;
            }
            assert.deepEqual(
              again?.map((f) => Number(f.pm.id)),
              Array.from({ length: written - c }, (_, i) => c + i),
            );
            base = c;
          }
          assert.equal(replay.after(written + 1), undefined, 'never a position not yet written');
        },
      ),
      { seed: 16, numRuns: 500 },
    );
  });
});
