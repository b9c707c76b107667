/**
 * The server under fuzzing: the real `encke serve` command in a child process (so that a crash is
 * seen as one, not as the fuzzer dying), on 127.0.0.1 and a free port, in sandbox mode with the
 * test apps. It watches the child's exit, its error-level log lines and its peak RSS (VmHWM).
 */
import { isPlainObject, parseJson } from '@encke/protocol';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TEST_APPS } from '../helpers/server.js';

const BIN = fileURLToPath(new URL('../../../packages/cli/bin/encke.js', import.meta.url));
/** pino's number for `error`. */
const PINO_ERROR = 50;

export interface ServerLogLine {
  /** pino's level: its label (the CLI's formatter writes 'info', 'error', ...) or its number. */
  level: number | string;
  msg?: string;
  [field: string]: unknown;
}

/** A pino line: an object with a numeric level (and a string msg, when it has one). */
function isServerLogLine(value: unknown): value is ServerLogLine {
  return (
    isPlainObject(value) &&
    (typeof value.level === 'number' || typeof value.level === 'string') &&
    (value.msg === undefined || typeof value.msg === 'string')
  );
}

/** Error level or above, as a label or a number. */
function isErrorLevel(level: number | string): boolean {
  return typeof level === 'number' ? level >= PINO_ERROR : level === 'error' || level === 'fatal';
}

export class FuzzServer {
  port = 0;
  /** Log lines at error level or above: each one is a finding. */
  readonly errors: ServerLogLine[] = [];
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  private stderr = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  /** Starts the server and resolves once it listens. */
  static async start(options: Record<string, unknown> = {}): Promise<FuzzServer> {
    const dir = mkdtempSync(join(tmpdir(), 'encke-fuzz-'));
    const config = join(dir, 'encke.json');
    writeFileSync(config, JSON.stringify({ apps: TEST_APPS, sandbox: true, ...options }));
    const child = spawn(
      process.execPath,
      [BIN, 'serve', '--config', config, '--host', '127.0.0.1', '--port', '0', '--log-level', 'info'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const server = new FuzzServer(child, dir);
    child.stderr!.on('data', (d: Buffer) => (server.stderr = (server.stderr + d.toString()).slice(-20_000)));
    const exited = new Promise<void>((resolve) =>
      child.once('exit', (code, signal) => {
        server.exitCode = code;
        server.exitSignal = signal;
        resolve();
      }),
    );
    const listening = new Promise<void>((resolve) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        let value: unknown;
        try {
          value = parseJson(line);
        } catch {
          return; // the banner lines
        }
        if (!isServerLogLine(value)) throw new Error(`not a pino log line: ${line}`);
        const entry = value;
        if (entry.msg === 'encke listening') {
          if (typeof entry.port !== 'number') throw new Error(`"encke listening" without a port: ${line}`);
          server.port = entry.port;
          resolve();
        }
        if (isErrorLevel(entry.level)) server.errors.push(entry);
      });
    });
    await Promise.race([
      listening,
      exited.then(() => Promise.reject(new Error(`server exited at start: ${server.stderr}`))),
    ]);
    return server;
  }

  get alive(): boolean {
    return this.exitCode === null && this.exitSignal === null;
  }

  /** Why the server is not alive, with its last words. */
  get crash(): string {
    return `server exited (code ${this.exitCode}, signal ${this.exitSignal}): ${this.stderr.slice(-4000)}`;
  }

  /** Current and peak resident set size of the server process (bytes). */
  memory(): { rss: number; peak: number } {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const kb = (field: string): number =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  }

  async stop(): Promise<void> {
    if (this.alive) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
