/**
 * The order a connection's messages are handled in: publishes overlap, their answers keep
 * msgSerial order, everything else waits its turn, and the waiting line is bounded.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AblyError, Action, Err, PayloadError, type ProtocolMessage } from '@encke/protocol';
import {
  InboundQueue,
  PUBLISH_PIPELINE,
  publishAlone,
  type InboundHandler,
  type SendAnswer,
} from '@encke/server/internal';

type Inbound = ProtocolMessage | PayloadError;

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise reaction run. */
const turns = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A handler whose publishes and other messages settle when the test says. */
class Recorder implements InboundHandler {
  closed = false;
  readonly maxWaiting: number;
  /** What happened, in order: `start:<label>`, `answer:<label>`, `failed:<code>`. */
  readonly log: string[] = [];
  readonly pending = new Map<string, Deferred<void>>();

  constructor(maxWaiting = 1000) {
    this.maxWaiting = maxWaiting;
  }

  handle(pm: Inbound): Promise<void> | void {
    const label = labelOf(pm);
    this.log.push(`start:${label}`);
    if (pm instanceof PayloadError || pm.action === Action.HEARTBEAT) return;
    const d = deferred<void>();
    this.pending.set(label, d);
    return d.promise;
  }

  /** Publishes the engine answers at once (the memory engine): their answer is returned, not a promise. */
  readonly atOnce = new Set<string>();

  publish(pm: Inbound): SendAnswer | Promise<SendAnswer> {
    const label = labelOf(pm);
    this.log.push(`start:${label}`);
    if (this.atOnce.has(label)) return () => void this.log.push(`answer:${label}`);
    const d = deferred<void>();
    this.pending.set(label, d);
    return d.promise.then(
      () => () => void this.log.push(`answer:${label}`),
      () => () => void this.log.push(`nack:${label}`),
    );
  }

  failed(err: unknown): void {
    this.log.push(`failed:${AblyError.from(err).code}`);
  }

  idles = 0;
  idle(): void {
    this.idles++;
  }

  pause(): void {
    this.log.push('pause');
  }

  resume(): void {
    this.log.push('resume');
  }

  settle(label: string, ok = true): void {
    const d = this.pending.get(label);
    assert.ok(d, `nothing pending for ${label}`);
    if (ok) d.resolve();
    else d.reject(new Error('engine said no'));
  }
}

function labelOf(pm: Inbound): string {
  const e = pm instanceof PayloadError ? pm.envelope : pm;
  return e.action === Action.MESSAGE ? `m${e.msgSerial}` : `${e.action}:${e.channel ?? ''}`;
}

const message = (msgSerial: number): ProtocolMessage => ({
  action: Action.MESSAGE,
  channel: 'c',
  msgSerial,
  messages: [{ data: 'x' }],
});
const detach = (channel: string): ProtocolMessage => ({ action: Action.DETACH, channel });

describe('inbound order', () => {
  it('starts consecutive publishes at once and answers them in msgSerial order', async () => {
    const h = new Recorder();
    const q = new InboundQueue(h);
    for (let i = 0; i < 3; i++) q.receive(message(i));
    assert.deepEqual(h.log, ['start:m0', 'start:m1', 'start:m2']);
    h.settle('m2');
    h.settle('m1');
    await turns();
    assert.deepEqual(h.log.slice(3), [], 'no answer overtakes m0');
    assert.equal(h.idles, 0);
    h.settle('m0', false);
    await turns();
    assert.deepEqual(h.log.slice(3), ['nack:m0', 'answer:m1', 'answer:m2']);
    assert.equal(h.idles, 1, 'idle once every answer is out');
  });

  it('holds anything but a publish until the publishes before it are answered', async () => {
    const h = new Recorder();
    const q = new InboundQueue(h);
    q.receive(message(0));
    q.receive(detach('c'));
    q.receive(message(1));
    assert.deepEqual(h.log, ['start:m0'], 'the DETACH waits, and the publish after it too');
    h.settle('m0');
    await turns();
    assert.deepEqual(h.log, ['start:m0', 'answer:m0', `start:${Action.DETACH}:c`]);
    h.settle(`${Action.DETACH}:c`);
    await turns();
    assert.deepEqual(h.log.slice(3), ['start:m1']);
  });

  it('starts no more than PUBLISH_PIPELINE publishes at once', async () => {
    const h = new Recorder();
    const q = new InboundQueue(h);
    for (let i = 0; i <= PUBLISH_PIPELINE; i++) q.receive(message(i));
    assert.equal(h.log.length, PUBLISH_PIPELINE);
    h.settle('m0');
    await turns();
    assert.ok(h.log.includes(`start:m${PUBLISH_PIPELINE}`), 'the next starts once one is answered');
  });

  it('keeps the order of a payload error among publishes', async () => {
    const h = new Recorder();
    const q = new InboundQueue(h);
    q.receive(message(0));
    q.receive(new PayloadError(Err.badRequest, 'bad data', { action: Action.MESSAGE, channel: 'c', msgSerial: 1 }));
    assert.deepEqual(h.log, ['start:m0', 'start:m1'], 'a payload error is a publish too (its NACK is ordered)');
  });

  it('fails the connection past maxWaiting and starts nothing more after it closes', async () => {
    const h = new Recorder(2);
    const q = new InboundQueue(h);
    q.receive(detach('a'));
    q.receive(detach('b'));
    q.receive(detach('c'));
    q.receive(detach('d'));
    assert.deepEqual(h.log, [`start:${Action.DETACH}:a`, 'pause', `failed:${Err.rateLimited.code}`]);
    h.closed = true;
    h.settle(`${Action.DETACH}:a`);
    await turns();
    assert.equal(h.log.length, 3, 'nothing starts (or reads again) on a closed connection');
  });

  it('stops reading at half the bound and reads again at a quarter', async () => {
    const h = new Recorder(8);
    const q = new InboundQueue(h);
    q.receive(detach('a'));
    for (let i = 0; i < 4; i++) q.receive(message(i));
    // The DETACH is under way, four publishes wait: half of 8.
    assert.deepEqual(h.log, [`start:${Action.DETACH}:a`, 'pause']);
    q.receive(message(4));
    assert.equal(h.log.filter((e) => e === 'pause').length, 1, 'told once');
    h.settle(`${Action.DETACH}:a`);
    await turns();
    // Every waiting publish started (the pipeline takes them all): nothing waits, reading resumes.
    assert.deepEqual(h.log.slice(2), ['start:m0', 'start:m1', 'start:m2', 'start:m3', 'start:m4', 'resume']);
    assert.ok(!h.log.some((e) => e.startsWith('failed')), 'nobody failed');
  });

  it('reports a handler that throws and goes on with the next message', async () => {
    const h = new Recorder();
    h.handle = (pm) => {
      h.log.push(`start:${labelOf(pm)}`);
      throw new AblyError(Err.protocolError, 'unexpected');
    };
    const q = new InboundQueue(h);
    q.receive(detach('a'));
    q.receive(message(0));
    assert.deepEqual(h.log, [`start:${Action.DETACH}:a`, `failed:${Err.protocolError.code}`, 'start:m0']);
  });
});

describe('publishes the engine answers at once', () => {
  it('answers in the same call, with no promise, and the queue is idle again', () => {
    const h = new Recorder();
    h.atOnce.add('m0');
    const q = new InboundQueue(h);
    q.receive(message(0));
    assert.deepEqual(h.log, ['start:m0', 'answer:m0'], 'answered before receive returned');
    assert.equal(h.idles, 1);
  });

  it('keeps msgSerial order: an answer given at once waits for an earlier one still awaited', async () => {
    const h = new Recorder();
    h.atOnce.add('m1');
    const q = new InboundQueue(h);
    q.receive(message(0));
    q.receive(message(1));
    assert.deepEqual(h.log, ['start:m0', 'start:m1'], 'm1 is not answered before m0');
    h.settle('m0');
    await turns();
    assert.deepEqual(h.log.slice(2), ['answer:m0', 'answer:m1']);
    assert.equal(h.idles, 1);
  });

  it('starts what follows at once, each answer out before it', () => {
    const h = new Recorder();
    h.atOnce.add('m0');
    h.atOnce.add('m1');
    const q = new InboundQueue(h);
    q.receive(message(0));
    q.receive(detach('c'));
    assert.deepEqual(h.log, ['start:m0', 'answer:m0', `start:${Action.DETACH}:c`]);
    h.settle(`${Action.DETACH}:c`);
    q.receive(message(1));
    assert.equal(h.log.includes('start:m1'), false, 'the DETACH is still under way');
  });

  it('publishAlone sends an answer given at once and returns a pending one', () => {
    const h = new Recorder();
    h.atOnce.add('m0');
    assert.equal(publishAlone(h, message(0)), undefined);
    assert.deepEqual(h.log, ['start:m0', 'answer:m0']);
    const pending = publishAlone(h, message(1));
    assert.ok(pending instanceof Promise, 'the engine has not answered m1');
    assert.deepEqual(h.log.slice(2), ['start:m1']);
  });

  it('reports an answer that throws, and a publish that throws, without stopping the queue', () => {
    const h = new Recorder();
    const q = new InboundQueue(h);
    h.publish = (pm) => {
      const label = labelOf(pm);
      h.log.push(`start:${label}`);
      if (label === 'm0') throw new AblyError(Err.protocolError, 'no msgSerial');
      return () => {
        throw new AblyError(Err.internal, 'cannot send');
      };
    };
    q.receive(message(0));
    q.receive(message(1));
    q.receive(detach('c'));
    assert.deepEqual(h.log, [
      'start:m0',
      `failed:${Err.protocolError.code}`,
      'start:m1',
      `failed:${Err.internal.code}`,
      `start:${Action.DETACH}:c`,
    ]);
  });
});
