/**
 * ScriptRunner (engine/redis/script.ts) against a model of one Redis connection: the server runs
 * commands in the order they were sent, knows the scripts it was given (SCRIPT LOAD, EVAL) and
 * refuses EVALSHA of others (NOSCRIPT, no effect); answers reach the client when the test says, and
 * the client may make new calls between two answers (as a node does between two socket reads). The
 * writes the server runs must be in call order whatever the interleaving.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LuaScript, ScriptRunner, type ScriptClient } from '@encke/server/internal';

type Arg = string | Buffer | number;

interface Command {
  command: string;
  args: Arg[];
  answer: (ok: boolean, value: unknown) => void;
}

class ModelRedis implements ScriptClient {
  /** Scripts the server has, by SHA. */
  readonly scripts = new Set<string>();
  /** What the server ran, in order (the first argument after the keys). */
  readonly ran: string[] = [];
  readonly sent: string[] = [];
  /** Commands sent and not yet run by the server (after a restart: re-sent by the client first). */
  private unrun: Command[] = [];
  /** Answers produced by the server and not yet read by the client. */
  private unread: (() => void)[] = [];
  private readonly closeListeners: (() => void)[] = [];

  constructor(private readonly sources: Map<string, string>) {}

  callBuffer(command: string, args: Arg[]): Promise<unknown> {
    this.sent.push(command === 'SCRIPT' ? `SCRIPT ${String(args[0])}` : command);
    return new Promise((resolve, reject) => {
      this.unrun.push({
        command,
        args,
        answer: (ok, value) => this.unread.push(() => (ok ? resolve(value) : reject(value as Error))),
      });
    });
  }

  on(_event: 'close', listener: () => void): void {
    this.closeListeners.push(listener);
  }

  private shaOf(source: Arg): string {
    return [...this.sources].find(([, src]) => src === source)![0];
  }

  /** The server runs every command it has received. */
  run(): void {
    const commands = this.unrun;
    this.unrun = [];
    for (const { command, args, answer } of commands) {
      if (command === 'SCRIPT') {
        this.scripts.add(this.shaOf(args[1]!));
        answer(true, 'sha');
        continue;
      }
      const sha = command === 'EVAL' ? this.shaOf(args[0]!) : String(args[0]);
      if (command === 'EVAL') this.scripts.add(sha);
      if (!this.scripts.has(sha)) {
        answer(false, new Error('NOSCRIPT No matching script. Please use EVAL.'));
        continue;
      }
      const name = String(args[2 + Number(args[1])]);
      this.ran.push(name);
      answer(true, name);
    }
  }

  /** The client reads the next `n` answers, each its own I/O event. */
  async read(n = Infinity): Promise<void> {
    while (n-- > 0 && this.unread.length > 0) {
      this.unread.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  }

  /** The server restarts: it loses its scripts; commands not run yet will be re-sent to it first. */
  restart(): void {
    this.scripts.clear();
    this.unread = [];
    for (const l of this.closeListeners) l();
  }

  /** Runs and reads until nothing is left. */
  async settle(): Promise<void> {
    for (let i = 0; i < 20; i++) {
      this.run();
      await this.read();
    }
  }
}

function setUp(): {
  redis: ModelRedis;
  runner: ScriptRunner;
  script: LuaScript;
  call: (name: string) => Promise<unknown>;
} {
  const script = new LuaScript(`return ARGV[1] -- ${Math.random()}`);
  const redis = new ModelRedis(new Map([[script.sha, script.source]]));
  const runner = new ScriptRunner(redis);
  return { redis, runner, script, call: (name) => runner.run(script, ['k'], [name]) };
}

const names = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => String(from + i));

describe('ScriptRunner: script calls run in call order', () => {
  it('loads a script ahead of its first call on the connection, then calls it by SHA', async () => {
    const { redis, call } = setUp();
    const done = [call('a'), call('b'), call('c')];
    await redis.settle();
    assert.deepEqual(await Promise.all(done), ['a', 'b', 'c']);
    assert.deepEqual(redis.sent, ['SCRIPT LOAD', 'EVALSHA', 'EVALSHA', 'EVALSHA']);
  });

  it('a fresh server, new calls between two answers (cluster-failover: 5, 6, 7 ran before 3 and 4)', async () => {
    const { redis, call } = setUp();
    const done = names(0, 5).map(call);
    redis.run();
    await redis.read(3); // the answers to 0..2 arrive in one socket read, those to 3 and 4 in the next
    done.push(...names(5, 8).map(call)); // meanwhile the client publishes 5..7
    await redis.settle();
    await Promise.all(done);
    assert.deepEqual(redis.ran, names(0, 8));
  });

  it('scripts flushed: calls made while earlier ones are being retried wait for them', async () => {
    const { redis, call } = setUp();
    await Promise.all([call('w'), redis.settle()]);
    redis.scripts.clear(); // SCRIPT FLUSH
    const done = [call('a'), call('b')];
    redis.run(); // both refused
    await redis.read(1); // a's NOSCRIPT read: a is sent again (EVAL)
    done.push(call('c')); // a new call arrives before b's NOSCRIPT is read
    redis.run(); // the server runs a's retry (and c, had it been sent)
    await redis.settle();
    assert.deepEqual(await Promise.all(done), ['a', 'b', 'c']);
    assert.deepEqual(redis.ran, ['w', 'a', 'b', 'c']);
  });

  it('a restart with nothing in flight: the next call loads the script again', async () => {
    const { redis, call } = setUp();
    await Promise.all([call('w'), redis.settle()]);
    redis.restart();
    const done = call('a');
    await redis.settle();
    assert.equal(await done, 'a');
    assert.deepEqual(redis.sent, ['SCRIPT LOAD', 'EVALSHA', 'SCRIPT LOAD', 'EVALSHA']);
  });

  it('a restart with calls in flight: calls made after it wait until those are through', async () => {
    const { redis, call } = setUp();
    await Promise.all([call('w'), redis.settle()]);
    const done = [call('a1'), call('a2'), call('a3')];
    redis.restart(); // a1..a3 are re-sent by SHA to a server without the script
    done.push(call('c1'), call('c2'));
    await redis.settle();
    await Promise.all(done);
    assert.deepEqual(redis.ran, ['w', 'a1', 'a2', 'a3', 'c1', 'c2']);
  });

  it('counts a call that ran before an earlier call being retried (another client loaded the script between them)', async () => {
    const { redis, runner, script, call } = setUp();
    await Promise.all([call('w'), redis.settle()]);
    redis.scripts.clear();
    const a = call('a');
    redis.run(); // refused
    redis.scripts.add(script.sha); // another client loads it
    const b = call('b');
    redis.run(); // b runs
    await redis.settle();
    await Promise.all([a, b]);
    assert.deepEqual(redis.ran, ['w', 'b', 'a']);
    assert.equal(runner.overtaken, 1);
  });
});
