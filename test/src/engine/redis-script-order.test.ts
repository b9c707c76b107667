/**
 * The Redis engine runs a node's writes in the order it made them, also when the server does not
 * have the Lua scripts (a fresh or restarted Redis) and another client loads them meanwhile.
 *
 * The interleaving is forced, not waited for: the engine sends write `a`; this process then blocks
 * until the server has run (or refused) it (so its answer waits unread, as on a node whose event
 * loop is busy under load), another client loads the publish script (what the script's first use,
 * by this node or another, does), and the engine sends write `b`. With EVALSHA + "EVAL on NOSCRIPT"
 * (before script.ts's runner), `a` was refused, `b` found the script and ran, and `a`'s re-send ran
 * after it: serials b < a, the order cluster-failover saw once (messages 5, 6, 7 before 3, 4 at the
 * start of a stream, on a fresh Redis).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { RedisEngine, channelKey, type Logger } from '@encke/server';
import { FakeClock, PUBLISH_LUA } from '@encke/server/internal';
import { TestRedis } from '../helpers/redis.js';
import { eventually } from '../helpers/ably.js';

const redis = TestRedis.perSuite();

const random = (): string => Math.random().toString(36).slice(2, 8);

/** Blocks this process (nothing it was sent is read meanwhile). */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** EVALSHA calls the server has taken so far (run, failed or refused). */
function evalshaCalls(): number {
  const m = /cmdstat_evalsha:calls=(\d+).*?rejected_calls=(\d+)/.exec(cli('INFO', 'commandstats'));
  return m ? Number(m[1]) + Number(m[2]) : 0;
}

/** Blocks this process until the server has taken `count` EVALSHA calls. */
function awaitEvalsha(count: number): void {
  const deadline = Date.now() + 10_000;
  while (evalshaCalls() < count) {
    assert.ok(Date.now() < deadline, 'the server did not get the write');
    stall(5);
  }
}

/** Runs a command on a client of its own, synchronously (this process reads nothing meanwhile). */
function cli(...args: string[]): string {
  const r = spawnSync('redis-cli', ['-p', String(redis.port), ...args], { encoding: 'utf8' });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

interface Logged {
  level: string;
  msg: string;
}

function recordingLogger(lines: Logged[]): Logger {
  const at =
    (level: string) =>
    (obj: object | string, msg?: string): void => {
      lines.push({ level, msg: typeof obj === 'string' ? obj : (msg ?? '') });
    };
  const logger: Logger = {
    fatal: at('fatal'),
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: () => {},
    trace: () => {},
    isLevelEnabled: () => true,
    child: () => logger,
  };
  return logger;
}

async function started(lines: Logged[] = []): Promise<RedisEngine> {
  const clock = new FakeClock(1_700_000_000_000);
  const engine = new RedisEngine({
    url: redis.url,
    prefix: `o${random()}:`,
    clock,
    logger: recordingLogger(lines),
    logMaxCount: 1000,
    logMaxAge: 600_000,
    channelRetention: 1_200_000,
    nodeId: `node-${random()}`,
    nodeTimeout: 60_000,
    statsMaxIntervals: 100,
    connectionStateTtl: 120_000,
  });
  await engine.start({
    onChannelEvent: () => undefined,
    onResync: () => undefined,
    onRevocation: () => undefined,
    onTakeover: () => undefined,
  });
  return engine;
}

const event = (name: string) => ({
  kind: 'message' as const,
  id: `c:${name}`,
  timestamp: 1_700_000_000_000,
  messages: [{ id: `c:${name}:0`, name }],
});

/** Names of the channel's messages in log (serial) order. */
async function logOrder(engine: RedisEngine, name: string): Promise<string[]> {
  const key = channelKey('app', name);
  const head = await engine.channels.head(key);
  const replay = await engine.channels.readAfter(key, head.epoch, 0, 1000);
  assert.ok(replay.complete);
  return replay.events.map((e) => e.messages![0]!.name!);
}

/** Sends `a`; while its answer waits unread, another client loads the publish script; then sends `b`. */
function interleave(engine: RedisEngine, channel: string): Promise<unknown>[] {
  const key = channelKey('app', channel);
  const before = evalshaCalls();
  const a = engine.channels.publish(key, event('a'));
  awaitEvalsha(before + 1); // the server has run (or refused) `a`; its answer waits in our socket
  assert.match(cli('SCRIPT', 'LOAD', PUBLISH_LUA), /^[0-9a-f]{40}$/); // another node loads it
  const b = engine.channels.publish(key, event('b'));
  return [a, b];
}

describe('redis engine: writes run in call order across a server without the scripts', () => {
  it('a fresh Redis: the first write loads the script, so another client loading it changes nothing', async () => {
    cli('SCRIPT', 'FLUSH'); // as a Redis that has just started
    const engine = await started();
    try {
      await Promise.all(interleave(engine, 'fresh'));
      assert.deepEqual(await logOrder(engine, 'fresh'), ['a', 'b']);
    } finally {
      await engine.close();
    }
  });

  it('a restarted Redis (scripts lost): the first write after the reconnect loads the script again', async () => {
    const lines: Logged[] = [];
    const engine = await started(lines);
    try {
      await engine.channels.publish(channelKey('app', 'warm'), event('w')); // the script is known to be loaded
      await redis.restart();
      await eventually(() => engine.isReady(), 10_000, 'the engine reconnected');
      await Promise.all(interleave(engine, 'restarted'));
      assert.deepEqual(await logOrder(engine, 'restarted'), ['a', 'b']);
      assert.deepEqual(
        lines.filter((l) => l.level === 'error'),
        [],
      );
    } finally {
      await engine.close();
    }
  });

  it('writes in flight when Redis restarts run before the writes made while it was away', async () => {
    const engine = await started();
    try {
      const key = channelKey('app', 'inflight');
      await engine.channels.publish(key, event('w'));
      // The server takes the next writes but runs none of them, then dies: they are in flight.
      assert.equal(cli('CLIENT', 'PAUSE', '60000', 'ALL'), 'OK');
      const inFlight = ['a1', 'a2', 'a3'].map((n) => engine.channels.publish(key, event(n)));
      stall(100);
      await redis.stop();
      await eventually(() => !engine.isReady(), 5000, 'the engine saw the connection go');
      await new Promise((r) => setImmediate(r));
      const later = ['c1', 'c2'].map((n) => engine.channels.publish(key, event(n)));
      await redis.restart();
      await Promise.all([...inFlight, ...later]);
      // A new epoch (the restarted server lost the data): in it, the writes in the order made.
      assert.deepEqual(await logOrder(engine, 'inflight'), ['a1', 'a2', 'a3', 'c1', 'c2']);
    } finally {
      await engine.close();
    }
  });

  it('scripts flushed under a connection and loaded by another client between two writes: detected, logged', async () => {
    // The one order script calls cannot restore (script.ts): both writes reached a server without
    // the script, and another client loaded it between them. It is reported, not silent.
    const lines: Logged[] = [];
    const engine = await started(lines);
    try {
      await engine.channels.publish(channelKey('app', 'warm'), event('w'));
      cli('SCRIPT', 'FLUSH');
      await Promise.all(interleave(engine, 'flushed'));
      assert.deepEqual(await logOrder(engine, 'flushed'), ['b', 'a']);
      assert.ok(
        lines.some((l) => l.level === 'error' && /ran before an earlier one/.test(l.msg)),
        JSON.stringify(lines),
      );
    } finally {
      await engine.close();
    }
  });
});
