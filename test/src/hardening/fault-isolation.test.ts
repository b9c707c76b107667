/**
 * Fault isolation (issue 12): the last resort, made to happen. Each case injects the fault a bug
 * could cause (an encoder that throws, a handler that throws on a frame, a flush or heartbeat tick
 * that throws) and checks that it ends at most that connection, with an ErrorInfo and an
 * error-level log line, is counted (`node.faults`), and that the process and every other client
 * carry on.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Action, Err, type Format, type ProtocolMessage } from '@encke/protocol';
import { OutboundFrame, Session } from '@encke/server/internal';
import { RawCometClient } from '../helpers/raw-comet.js';
import { RawClient } from '../helpers/raw-ws.js';
import { RecordingLogger } from '../helpers/logs.js';
import { KEYS, startServer, type TestServer } from '../helpers/server.js';

const CHANNEL = 'isolated';
const POISON = 'poison';

const hasData = (pm: ProtocolMessage, data: string): boolean => pm.messages?.some((m) => m.data === data) ?? false;

describe('fault isolation: the last resort logs, counts and ends at most one connection', () => {
  let ts: TestServer;
  const logger = new RecordingLogger();
  const restore: (() => void)[] = [];
  let sent = 0;

  /** Replaces `obj[name]` until the end of the test. */
  function patch<T extends object, K extends keyof T>(obj: T, name: K, replacement: T[K]): void {
    const original = obj[name];
    obj[name] = replacement;
    restore.push(() => (obj[name] = original));
  }

  async function subscriber(format: Format, clientId = ''): Promise<RawClient> {
    const client = await RawClient.connect(ts.port, KEYS.full, format, clientId ? `&clientId=${clientId}` : '');
    client.send({ action: Action.ATTACH, channel: CHANNEL });
    await client.next(Action.ATTACHED);
    return client;
  }

  async function publish(data: string): Promise<void> {
    const res = await fetch(`http://127.0.0.1:${ts.port}/channels/${CHANNEL}/messages`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(KEYS.full).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ data }),
    });
    assert.equal(res.status, 201);
  }

  /** A fresh message reaches `client`: it is alive and served. */
  async function stillServed(...clients: RawClient[]): Promise<void> {
    const data = `alive-${++sent}`;
    await publish(data);
    for (const c of clients) await c.next(Action.MESSAGE, 5000, (pm) => hasData(pm, data));
  }

  before(async () => {
    ts = await startServer({ logger });
  });
  afterEach(() => {
    while (restore.length > 0) restore.pop()!();
  });
  after(async () => {
    await ts.close();
  });

  it('a frame the msgpack encoder refuses is dropped for msgpack subscribers only, with one error log line', async () => {
    const faults = ts.server.faults.counts.encode;
    const original = OutboundFrame.prototype.msgpack;
    patch(OutboundFrame.prototype, 'msgpack', function (this: OutboundFrame) {
      if (hasData(this.pm, POISON)) throw new Error('Too deep objects in depth 101');
      return original.call(this);
    });
    const [json, msgpack] = [await subscriber('json'), await subscriber('msgpack')];
    const comet = await RawCometClient.connect(ts.port, { format: 'msgpack' });
    await comet.send([{ action: Action.ATTACH, channel: CHANNEL }]);
    await comet.next(Action.ATTACHED);
    const errorsBefore = logger.at('error').length;
    await publish(POISON);
    await publish('after-poison');
    await json.next(Action.MESSAGE, 5000, (pm) => hasData(pm, POISON));
    for (const c of [json, msgpack, comet]) await c.next(Action.MESSAGE, 5000, (pm) => hasData(pm, 'after-poison'));
    assert.ok(
      !msgpack.log.some((pm) => hasData(pm, POISON)) && !comet.log.some((pm) => hasData(pm, POISON)),
      'msgpack subscribers never got the frame',
    );
    assert.equal(ts.server.faults.counts.encode, faults + 1);
    const errors = logger.at('error').slice(errorsBefore);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.fields.fault, 'encode');
    assert.ok(!msgpack.closed && !comet.closed);
    json.close();
    msgpack.close();
    await comet.close();
  });

  it("an exception while handling one connection's frame fails that connection (50000) and no other", async () => {
    const faults = ts.server.faults.counts.connection;
    const original = Session.prototype.receive;
    patch(Session.prototype, 'receive', function (this: Session, pm) {
      if (!(pm instanceof Error) && pm.channel === 'boom') throw new TypeError('a bug');
      original.call(this, pm);
    });
    const [victim, bystander] = [await subscriber('json'), await subscriber('msgpack')];
    victim.send({ action: Action.ATTACH, channel: 'boom' });
    const error = await victim.next(Action.ERROR);
    assert.equal(error.error?.code, Err.internal.code);
    await victim.waitClosed();
    assert.equal(ts.server.faults.counts.connection, faults + 1);
    assert.ok(logger.at('error').some((e) => e.fields.fault === 'connection' && e.msg.includes('handling a frame')));
    await stillServed(bystander);
    bystander.close();
  });

  it("an exception in one session's flush fails that session; the others of the tick are written", async () => {
    const faults = ts.server.faults.counts.connection;
    const [victim, bystander] = [await subscriber('json', 'flush-victim'), await subscriber('json')];
    const original = Session.prototype.flush;
    patch(Session.prototype, 'flush', function (this: Session) {
      if (this.clientId === 'flush-victim' && this.state === 'connected') throw new RangeError('a bug in flush');
      original.call(this);
    });
    // The victim's next frame is queued (a fan-out written at once would not flush): an ATTACHED.
    victim.send({ action: Action.ATTACH, channel: 'flush-victim-more' });
    await publish('to-both');
    await bystander.next(Action.MESSAGE, 5000, (pm) => hasData(pm, 'to-both'));
    await victim.waitClosed();
    assert.equal(ts.server.faults.counts.connection, faults + 1);
    await stillServed(bystander);
    bystander.close();
  });

  it('an exception writing a fan-out to one connection fails that connection; the fan-out reaches the others', async () => {
    const faults = ts.server.faults.counts.connection;
    // Each subscriber's session, caught as its ATTACHED is flushed.
    const sessions = new Map<string, Session>();
    const original = Session.prototype.flush;
    patch(Session.prototype, 'flush', function (this: Session) {
      if (this.clientId) sessions.set(this.clientId, this);
      original.call(this);
    });
    const before = await subscriber('json', 'before-victim');
    const victim = await subscriber('json', 'write-victim');
    const after = await subscriber('msgpack', 'after-victim');
    // The victim's transport throws on a one-frame write: the fan-out handed to it as the channel goes.
    const transport = sessions.get('write-victim')!.transport!;
    patch(transport, 'writeOne', () => {
      throw new RangeError('a bug in writeOne');
    });
    await publish('fan-out');
    for (const c of [before, after]) await c.next(Action.MESSAGE, 5000, (pm) => hasData(pm, 'fan-out'));
    await victim.waitClosed();
    assert.equal(ts.server.faults.counts.connection, faults + 1);
    assert.ok(logger.at('error').some((e) => e.fields.fault === 'connection' && e.msg.includes('writing to it')));
    await stillServed(before, after);
    before.close();
    after.close();
  });

  it("an exception in one connection's heartbeat tick fails that connection only", async () => {
    const faults = ts.server.faults.counts.timer;
    const victim = await RawClient.connect(ts.port, KEYS.full, 'json', '&clientId=tick-victim');
    const bystander = await subscriber('json');
    const id = ts.server.inspect
      .connectionIds()
      .find((c) => ts.server.inspect.connection(c)?.clientId === 'tick-victim')!;
    const transportOf = (session: Session): { tick(now: number): void } | null =>
      session.transport as { tick(now: number): void } | null;
    const original = Session.prototype.flush;
    let armed = false;
    // The victim's transport tick throws from the next heartbeat on.
    patch(Session.prototype, 'flush', function (this: Session) {
      const t = transportOf(this);
      if (!armed && this.id === id && t) {
        armed = true;
        t.tick = () => {
          throw new Error('a bug in tick');
        };
      }
      original.call(this);
    });
    victim.send({ action: Action.ATTACH, channel: 'tick' });
    await victim.next(Action.ATTACHED);
    await victim.waitClosed(ts.server.options.heartbeatInterval * 3);
    assert.equal(ts.server.faults.counts.timer, faults + 1);
    await stillServed(bystander);
    bystander.close();
  });
});
