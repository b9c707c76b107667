/**
 * A real redis-server for tests, on a free loopback port, started and stopped by the test itself.
 * Tests that need Redis never skip: without redis-server on the PATH they fail and say how to
 * install it (`.ci/run` installs it with apt-get).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export class TestRedis {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'encke-redis-'));
  private assigned = 0;

  private constructor() {}

  /** Its port; known once started. */
  get port(): number {
    if (this.assigned === 0) throw new Error('the test Redis starts in before(): read it inside a test or hook');
    return this.assigned;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<TestRedis> {
    const redis = new TestRedis();
    await redis.begin();
    return redis;
  }

  /**
   * One redis-server for the tests of the calling describe block (or file, at its top level):
   * started in `before`, killed and its directory removed in `after`.
   */
  static perSuite(): TestRedis {
    const redis = new TestRedis();
    before(() => redis.begin());
    after(() => redis.close());
    return redis;
  }

  private async begin(): Promise<void> {
    if (spawnSync('redis-server', ['--version']).error) {
      throw new Error(
        'redis-server is not installed: these tests need it (apt-get install redis-server; .ci/run does it)',
      );
    }
    this.assigned = await freePort();
    await this.launch();
  }

  private async launch(): Promise<void> {
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir],
      { stdio: 'ignore' },
    );
    await waitForPort(this.port, 10_000);
  }

  /** Kills redis-server (state is lost, as after a crash without persistence). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Runs one command (arguments as text or bytes) on a connection of its own; resolves with the first line of the reply. */
  command(...args: (string | Buffer)[]): Promise<string> {
    const request = Buffer.concat([
      Buffer.from(`*${args.length}\r\n`),
      ...args.flatMap((a) => [Buffer.from(`$${Buffer.byteLength(a)}\r\n`), Buffer.from(a), Buffer.from('\r\n')]),
    ]);
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.port, '127.0.0.1', () => socket.write(request));
      let reply = '';
      socket.on('data', (d: Buffer) => {
        reply += d.toString();
        const end = reply.indexOf('\r\n');
        if (end < 0) return;
        socket.end();
        if (reply.startsWith('-')) reject(new Error(`redis: ${reply.slice(1, end)}`));
        else resolve(reply.slice(1, end));
      });
      socket.on('error', reject);
    });
  }

  /** Stops and starts again on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
