/**
 * The processes of one case: the server under test and the load generator, each pinned to its own
 * core with `taskset` when the machine has it and two cores or more. Every server-side process of a
 * stack (several nodes, redis-server) shares the server core. Every wait is bounded.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { GeneratorMessage, Job, JobResult } from './jobs.js';
import type { MemoryReport, ServerKind } from './servers/main.js';

const SERVER_MAIN = fileURLToPath(new URL('./servers/main.js', import.meta.url));
const GENERATOR_MAIN = fileURLToPath(new URL('./generator.js', import.meta.url));
const SERVER_CORE = 0;
const GENERATOR_CORE = 1;
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const PINNING = availableParallelism() >= 2 && hasTaskset();

function pin(pid: number | undefined, core: number): void {
  if (!PINNING || pid === undefined) return;
  execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
}

/** Pins a server-side process (a node, redis-server) to the server core. */
export function pinServer(pid: number | undefined): void {
  pin(pid, SERVER_CORE);
}

/** Pins the runner itself beside the generator, off the server's core. */
export function pinSelf(): void {
  pin(process.pid, GENERATOR_CORE);
}

/** Settles like `promise`, or kills `child` and rejects when it takes longer than `ms`. */
export function bounded<T>(promise: Promise<T>, ms: number, what: string, child: ChildProcess): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what}: gave up after ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

export const running = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

/** How a server process is started beyond its kind (bench/src/probe.ts). */
export interface ServerStart {
  /** More node options (e.g. `--heap-prof`). */
  nodeArgs?: readonly string[];
  /** A program that runs node (`['valgrind', '--tool=callgrind', …]`). */
  wrapper?: readonly string[];
  startTimeoutMs?: number;
}

export class ServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  /** Starts a server of `kind`; `args` follow the kind on main.js' command line. */
  static async start(kind: ServerKind, args: readonly string[] = [], how: ServerStart = {}): Promise<ServerProcess> {
    const profileDir = process.env.BENCH_CPU_PROF;
    // BENCH_SERVER_NODE_ARGS: node options for the server process alone (a diagnostic: `--trace-deopt`,
    // `--trace-turbo-inlining`, `--perf-basic-prof`), space-separated; NODE_OPTIONS would reach the generator too.
    const extra = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter((a) => a !== '') ?? [];
    const execArgv = [
      '--expose-gc',
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      ...extra,
      ...(how.nodeArgs ?? []),
    ];
    // A wrapper (valgrind) runs node itself: fork starts `execPath ...execArgv main.js`, so node
    // becomes the wrapper's first argument and the IPC channel passes through it.
    const options = how.wrapper
      ? { execPath: how.wrapper[0]!, execArgv: [...how.wrapper.slice(1), process.execPath, ...execArgv] }
      : { execArgv };
    const child = fork(SERVER_MAIN, [kind, ...args], { ...options, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    pinServer(child.pid);
    const ready = new Promise<number>((resolve, reject) => {
      child.once('message', (m: { type: string; port: number }) =>
        m.type === 'ready' ? resolve(m.port) : reject(new Error('unexpected message')),
      );
      child.once('exit', (code) => reject(new Error(`${kind} server exited (${code})`)));
    });
    const port = await bounded(ready, how.startTimeoutMs ?? START_TIMEOUT_MS, `${kind} server start`, child);
    return new ServerProcess(child, port);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** RSS and heap after full GCs. */
  memory(): Promise<MemoryReport> {
    return this.ask<MemoryReport>({ type: 'memory' }, 'memory');
  }

  /** Sends `msg` and resolves with the server's first answer of type `answer`. */
  ask<T extends { type: string }>(msg: object, answer: string, timeoutMs = START_TIMEOUT_MS): Promise<T> {
    const answered = new Promise<T>((resolve) => {
      const on = (m: T): void => {
        if (m.type !== answer) return;
        this.child.off('message', on);
        resolve(m);
      };
      this.child.on('message', on);
    });
    this.child.send(msg);
    return bounded(answered, timeoutMs, `server ${answer}`, this.child);
  }

  async stop(timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
    if (!running(this.child)) return;
    // Disconnecting lets the server exit on its own (and write a CPU profile when asked to).
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.disconnect();
    await bounded(exited, timeoutMs, 'server stop', this.child).catch(() => undefined);
  }
}

/** Runs one job in a fresh generator process; `onOpened` runs while an S3 job holds its connections. */
export async function runGenerator(
  job: Job,
  timeoutMs: number,
  onOpened?: (opened: { connections: number; ms: number; half?: boolean }) => Promise<void>,
): Promise<JobResult> {
  const child = fork(GENERATOR_MAIN, [], {
    execArgv: ['--max-old-space-size=4096'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  pin(child.pid, GENERATOR_CORE);
  const done = new Promise<JobResult>((resolve, reject) => {
    child.on('message', (m: GeneratorMessage) => {
      if (m.type === 'result') resolve(m.result);
      else if (m.type === 'error') reject(new Error(m.message));
      else if (m.type === 'opened') {
        const hold = onOpened ? onOpened(m) : Promise.resolve();
        hold.then(
          () => child.send({ type: 'finish' }),
          (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))),
        );
      }
    });
    child.once('exit', (code) => reject(new Error(`generator exited (${code}) without a result`)));
  });
  child.send({ type: 'job', job });
  try {
    return await bounded(done, timeoutMs, `${job.stack} job`, child);
  } finally {
    if (running(child)) child.kill('SIGKILL');
  }
}
