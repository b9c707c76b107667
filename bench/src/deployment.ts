/**
 * The server side of one case: a stack's nodes (one server process each) and, for encke's Redis
 * stacks, the redis-server they share, started by the harness on a free loopback port with no
 * persistence and stopped with the case. Every process is pinned to the server core.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MemoryReport } from './servers/main.js';
import { ServerProcess, bounded, pinServer, running, type ServerStart } from './procs.js';
import type { Stack } from './stacks.js';

const REDIS_START_TIMEOUT_MS = 10_000;
const REDIS_STOP_TIMEOUT_MS = 5_000;
/** What redis-server logs (to stdout) once it serves clients. */
const REDIS_READY = /Ready to accept connections/;
const REDIS_MISSING = 'redis-server is not installed (apt-get install redis-server; .ci/run does it)';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A throwaway redis-server: loopback only, no RDB snapshots, no AOF, its own empty directory. */
export class RedisProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  static async start(): Promise<RedisProcess> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'encke-bench-redis-'));
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const ready = new Promise<void>((resolve, reject) => {
      let seen = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString('utf8');
        if (REDIS_READY.test(seen)) resolve();
      });
      child.once('error', (err: NodeJS.ErrnoException) =>
        reject(new Error(err.code === 'ENOENT' ? REDIS_MISSING : err.message)),
      );
      child.once('exit', (code) =>
        reject(new Error(`redis-server exited (${code}): ${seen.trim().split('\n').pop() ?? ''}`)),
      );
    });
    try {
      await bounded(ready, REDIS_START_TIMEOUT_MS, 'redis-server start', child);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    // Its log is not read after start; resume the stream so that a full pipe never blocks it.
    child.stdout!.resume();
    pinServer(child.pid);
    return new RedisProcess(child, dir, port);
  }

  async stop(): Promise<void> {
    if (running(this.child)) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGKILL');
      await bounded(exited, REDIS_STOP_TIMEOUT_MS, 'redis-server stop', this.child).catch(() => undefined);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class Deployment {
  private constructor(
    private readonly nodes: ServerProcess[],
    private readonly redis: RedisProcess | undefined,
  ) {}

  /** Starts redis-server (if the stack has one), then the stack's nodes one after the other. */
  static async start(stack: Stack, how: ServerStart = {}): Promise<Deployment> {
    const redis = stack.redis ? await RedisProcess.start() : undefined;
    const deployment = new Deployment([], redis);
    try {
      for (let i = 0; i < (stack.nodes ?? 1); i++)
        deployment.nodes.push(await ServerProcess.start(stack.server, redis ? [redis.url] : [], how));
    } catch (err) {
      await deployment.stop();
      throw err;
    }
    return deployment;
  }

  get ports(): number[] {
    return this.nodes.map((n) => n.port);
  }

  /** Every server-side process: the nodes and redis-server. */
  get pids(): number[] {
    return [...this.nodes.map((n) => n.pid), ...(this.redis ? [this.redis.pid] : [])];
  }

  /** RSS and heap of the first node after full GCs. */
  memory(): Promise<MemoryReport> {
    return this.nodes[0]!.memory();
  }

  /** The first node's process (probe.ts asks it for its counts). */
  get first(): ServerProcess {
    return this.nodes[0]!;
  }

  async stop(timeoutMs?: number): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop(timeoutMs)));
    await this.redis?.stop();
  }
}
