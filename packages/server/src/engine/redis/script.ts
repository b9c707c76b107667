/**
 * Lua scripts, run on the server in the order they were called.
 *
 * The node relies on Redis running one connection's commands in the order they were sent: the
 * publishes of a connection (pipelined by the inbound queue) get their serials in arrival order, a
 * presence enter precedes its leave. Calling a script by SHA (EVALSHA) keeps that only while the
 * server has the script. A server without it (a fresh or restarted Redis, SCRIPT FLUSH) answers
 * NOSCRIPT and runs nothing; the call sent again with its source then runs after every call sent
 * behind it that found the script because it got loaded in between (by our own retry, or by another
 * node). That is how a publisher's messages 3 and 4 got serials after 5, 6 and 7 at the start of a
 * stream on a fresh Redis (cluster-failover): 0..4 went by SHA and were refused, 0's retry loaded
 * the script, 5..7 went by SHA and ran, then 3 and 4 were retried.
 *
 * So, per Redis connection (ScriptRunner):
 * - the first call of a script on the connection is preceded by SCRIPT LOAD on the same
 *   connection: every later call by SHA is behind it and finds the script (SCRIPT LOAD, unlike EVAL
 *   in Redis 7.4+, is never evicted);
 * - the connection closing (a restarted server has no scripts) makes the next call of each script
 *   load it again. Calls still in flight are re-sent by ioredis as they were, before anything newer:
 *   new calls wait until they have settled, NOSCRIPT retries included, so none loads a script ahead
 *   of a retry;
 * - a NOSCRIPT all the same (SCRIPT FLUSH) is retried at once with EVAL, and new calls wait until
 *   every call sent before them has settled.
 * The one order this cannot restore: another client loading the script between two of our calls
 * that both reached a server without it; the later one has then run first. It is counted and
 * logged at error level (`overtaken`), not silent.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../../util/logger.js';

type Arg = string | Buffer | number;

/** A Lua script, named by its SHA1. */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs the script on `redis` after every script call made on it before. */
  run(redis: ScriptClient, keys: readonly string[], args: readonly Arg[]): Promise<unknown> {
    return ScriptRunner.of(redis).run(this, keys, args);
  }
}

/** The subset of an ioredis client a ScriptRunner uses. */
export interface ScriptClient {
  callBuffer(command: string, args: Arg[]): Promise<unknown>;
  on(event: 'close', listener: () => void): unknown;
}

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

const runners = new WeakMap<ScriptClient, ScriptRunner>();

/** Script calls on one Redis connection (see the file comment). */
export class ScriptRunner {
  /** Scripts loaded on this connection since the server may last have lost them. */
  private readonly loaded = new Set<string>();
  /** Calls sent and not yet settled (a NOSCRIPT retry still counts as its call). */
  private inFlight = 0;
  /** Calls waiting until those in flight have settled; null when calls go out at once. */
  private held: (() => void)[] | null = null;
  /** Number of the last call sent. */
  private sent = 0;
  /** Numbers of the calls whose NOSCRIPT retry has not been answered yet. */
  private readonly retrying = new Set<number>();
  /** Calls that ran before an earlier call's retry (the one order that could not be kept). */
  overtaken = 0;

  constructor(
    private readonly redis: ScriptClient,
    private readonly logger?: Logger,
  ) {
    redis.on('close', () => this.lost());
  }

  /** The runner of `redis`, made on first use; `logger` (the engine's) reports NOSCRIPT recoveries. */
  static of(redis: ScriptClient, logger?: Logger): ScriptRunner {
    let runner = runners.get(redis);
    if (!runner) runners.set(redis, (runner = new ScriptRunner(redis, logger)));
    return runner;
  }

  run(script: LuaScript, keys: readonly string[], args: readonly Arg[]): Promise<unknown> {
    const held = this.held;
    if (held === null) return this.send(script, keys, args);
    return new Promise((resolve, reject) => {
      held.push(() => {
        this.send(script, keys, args).then(resolve, reject);
      });
    });
  }

  /** The connection closed: the server may have lost every script (see the file comment). */
  private lost(): void {
    this.loaded.clear();
    if (this.inFlight > 0) this.held ??= [];
  }

  private send(script: LuaScript, keys: readonly string[], args: readonly Arg[]): Promise<unknown> {
    const n = ++this.sent;
    this.inFlight++;
    if (!this.loaded.has(script.sha)) {
      this.loaded.add(script.sha);
      // Its failure shows in the call behind it (NOSCRIPT, retried with the source, which reports).
      this.redis.callBuffer('SCRIPT', ['LOAD', script.source]).catch(() => undefined);
    }
    return this.redis.callBuffer('EVALSHA', [script.sha, keys.length, ...keys, ...args]).then(
      (value) => {
        if (this.retrying.size > 0) this.checkOrder(n);
        return this.succeeded(value);
      },
      (err: unknown) => (isNoScript(err) ? this.retry(n, script, keys, args) : this.failed(err)),
    );
  }

  /** Call `n` found no script: sent again with its source; new calls wait until it is done. */
  private retry(n: number, script: LuaScript, keys: readonly string[], args: readonly Arg[]): Promise<unknown> {
    if (this.held === null)
      this.logger?.warn({ script: script.sha }, 'redis had lost its Lua scripts; loading them again');
    this.held ??= [];
    this.loaded.clear();
    this.loaded.add(script.sha);
    this.retrying.add(n);
    return this.redis.callBuffer('EVAL', [script.source, keys.length, ...keys, ...args]).then(
      (value) => {
        this.retrying.delete(n);
        return this.succeeded(value);
      },
      (err: unknown) => {
        this.retrying.delete(n);
        return this.failed(err);
      },
    );
  }

  /** Call `n` ran by SHA while an earlier call is being retried: it ran first (out of order). */
  private checkOrder(n: number): void {
    for (const r of this.retrying) {
      if (r >= n) continue;
      this.overtaken++;
      this.logger?.error(
        { overtaken: this.overtaken },
        'a redis write ran before an earlier one: the server lost its scripts while both were in flight and another client loaded them in between',
      );
      return;
    }
  }

  private succeeded(value: unknown): unknown {
    this.settled();
    return value;
  }

  private failed(err: unknown): never {
    this.settled();
    throw err;
  }

  private settled(): void {
    this.inFlight--;
    if (this.inFlight > 0 || this.held === null) return;
    const held = this.held;
    this.held = null;
    for (const send of held) send();
  }
}
