/**
 * encke as people run it: a real `encke` process (the repo's bin, `npm start`, `npx encke`, or an
 * installed binary), its output collected, its port read from the banner, and HTTP probes.
 */
import { parseJson } from '@encke/protocol';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonObject } from './json.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(REPO, 'packages/cli/bin/encke.js');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class EnckeProcess {
  stdout = '';
  stderr = '';
  /** Resolves once the process exited and every holder of its stdout/stderr (children too) closed them. */
  readonly closed: Promise<Exit>;
  port = 0;

  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.closed = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  }

  get output(): string {
    return this.stdout + this.stderr;
  }

  /** Waits until `pattern` appears in stdout+stderr (or the process ends, or time runs out). */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(this.output);
      if (m) return m;
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`process ended before ${pattern}: ${this.output}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}: ${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits for the banner and reads the port from it. */
  async started(timeoutMs = 60_000): Promise<number> {
    const m = await this.waitFor(/is running on https?:\/\/[^\s]+:(\d+)/, timeoutMs);
    this.port = Number(m[1]);
    return this.port;
  }

  /** Lines of stdout parsed as JSON (every line must be JSON). */
  jsonLines(): Record<string, unknown>[] {
    return this.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => jsonObject(l));
  }

  /** Signals the process (and, when it leads a group of its own, the group: nothing is left behind). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
  }

  /** SIGKILLs the process group of a detached process (cleanup after a failed test). */
  killGroup(): void {
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** In a process group of its own, so that a Ctrl-C can be sent to the group. */
  detached?: boolean;
}

/** Runs `command args…` (default: node and the repo's bin). */
export function spawnProcess(command: string, args: string[], options: SpawnOptions = {}): EnckeProcess {
  const child = spawn(command, args, {
    cwd: options.cwd ?? tempDir(),
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  return new EnckeProcess(child);
}

export function spawnEncke(args: string[], options: SpawnOptions = {}): EnckeProcess {
  return spawnProcess(process.execPath, [BIN, ...args], options);
}

/** Runs the bin to completion: exit code and output (for commands that stop by themselves). */
export async function runEncke(
  args: string[],
  options: SpawnOptions = {},
): Promise<Exit & { stdout: string; stderr: string }> {
  const p = spawnEncke(args, options);
  const exit = await p.closed;
  return { ...exit, stdout: p.stdout, stderr: p.stderr };
}

export function tempDir(prefix = 'encke-proc-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** GET on a fresh connection: status, headers and the body parsed as JSON (the text when not JSON). */
export function httpGet(port: number, path: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = parseJson(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, body, text, headers: res.headers });
      });
    });
    req.on('error', reject);
  });
}

export interface HttpAnswer {
  status: number;
  body: unknown;
  text: string;
  headers: http.IncomingHttpHeaders;
}

/** Polls `probe` until it returns true (or time runs out). */
export async function until(probe: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
