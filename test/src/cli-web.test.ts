/**
 * `encke serve` and the web apps, as a newcomer meets them: with no config the console says where
 * the chat and the dashboard are (the dashboard as a ready link), and both answer there; with a
 * config the chat needs --demo and the dashboard needs adminPassword, whose value is never printed.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../packages/cli/bin/encke.js', import.meta.url));

interface Running {
  child: ChildProcess;
  out: () => string;
  url: string;
}

/**
 * Starts `encke serve <args> --port 0` and waits until it serves (its "encke listening" log line,
 * then one request: the banner is written before the server handles anything).
 */
async function serve(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--log-level', 'info', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 15_000;
  let port: RegExpExecArray | null;
  while (!(port = /"port":(\d+).*"msg":"encke listening"/.exec(out))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`encke serve did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = `http://127.0.0.1:${port[1]}`;
  assert.equal((await fetch(`${url}/time`)).status, 200);
  return { child, out: () => out, url };
}

async function stop(r: Running): Promise<void> {
  const exited = new Promise((resolve) => r.child.on('exit', resolve));
  r.child.kill('SIGTERM');
  await exited;
}

function configFile(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'encke-web-')), 'encke.json');
  writeFileSync(path, JSON.stringify(content));
  return path;
}

describe('encke serve: chat and dashboard', () => {
  it('development mode prints where the chat and the dashboard are, and both answer there', async () => {
    const r = await serve([]);
    try {
      const chat = /Chat demo: +(\S+)/.exec(r.out())?.[1];
      const admin = /Admin dashboard: +(\S+)/.exec(r.out())?.[1];
      assert.equal(chat, `${r.url}/`);
      assert.match(admin ?? '', /\/admin#password=[A-Za-z0-9_-]{24}$/);
      const page = await fetch(chat!);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /encke chat/);
      const password = new URL(admin!).hash.slice('#password='.length);
      assert.equal((await fetch(`${r.url}/admin`)).status, 401);
      const login = await fetch(`${r.url}/admin/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ password }),
      });
      assert.equal(login.status, 204);
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
      assert.equal((await fetch(`${r.url}/admin`, { headers: { cookie } })).status, 200);
      const token = await fetch(`${chat}demo/token?clientId=Ana`);
      assert.equal(token.status, 200);
    } finally {
      await stop(r);
    }
  });

  it('with a config: no chat and no dashboard unless asked for; --demo serves the chat', async () => {
    const config = configFile({ apps: [{ id: 'prod', keys: [{ key: 'prod.k1:a-long-secret-value' }] }] });
    const plain = await serve(['--config', config]);
    try {
      assert.doesNotMatch(plain.out(), /Chat demo|Admin dashboard/);
      assert.equal((await fetch(`${plain.url}/`)).status, 404);
      assert.equal((await fetch(`${plain.url}/admin`)).status, 404);
    } finally {
      await stop(plain);
    }
    const demo = await serve(['--config', config, '--demo']);
    try {
      assert.match(demo.out(), /Chat demo: +http:\/\/127\.0\.0\.1:\d+\//);
      assert.equal((await fetch(`${demo.url}/`)).status, 200);
      assert.equal((await fetch(`${demo.url}/demo/token?clientId=Ana`)).status, 200);
    } finally {
      await stop(demo);
    }
  });

  it('a configured adminPassword turns the dashboard on and is never printed', async () => {
    const password = 'configured-admin-password-123';
    const r = await serve([
      '--config',
      configFile({ adminPassword: password, apps: [{ id: 'prod', keys: [{ key: 'prod.k1:a-long-secret-value' }] }] }),
    ]);
    try {
      assert.match(
        r.out(),
        /Admin dashboard: +http:\/\/127\.0\.0\.1:\d+\/admin +\(sign in with the adminPassword of the config\)/,
      );
      assert.ok(!r.out().includes(password));
      assert.equal((await fetch(`${r.url}/admin`)).status, 401);
    } finally {
      await stop(r);
    }
  });
});
