/**
 * The README's first example runs as written (an ES module that prints what it receives and exits
 * by itself), against a real server, over WebSocket and over comet the way the README says to pick
 * it. Only the key and the port are replaced by the test server's.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { REPO } from './helpers/process.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

function firstExample(): string {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Use it from an app'));
  const m = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'the README has a js example under "Use it from an app"');
  return m[1]!;
}

function runModule(source: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // Beside the compiled tests, where `ably` resolves as it does in an app that installed it.
  const file = join(
    fileURLToPath(new URL('.', import.meta.url)),
    `readme-example-${process.pid}-${Math.random().toString(36).slice(2)}.mjs`,
  );
  writeFileSync(file, source);
  const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      rmSync(file, { force: true });
      resolve({ code, stdout, stderr });
    }),
  );
}

describe("the README's first example", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer({ port: 0 });
  });
  after(() => ts.close());

  // [name, extra options, client module]: the official SDK, and encke's own client (the comment
  // on the example's import line says either works).
  const variants: [string, string, string][] = [
    ['as written (WebSocket)', '', 'ably'],
    ["with transports: ['comet'] (streaming)", ", transports: ['comet']", 'ably'],
    [
      "with transports: ['comet'] and stream: false (long-polling)",
      ", transports: ['comet'], transportParams: { stream: false }",
      'ably',
    ],
    ['with @encke/client (WebSocket)', '', '@encke/client'],
    [
      "with @encke/client and transports: ['xhr_polling'] (long-polling)",
      ", transports: ['xhr_polling']",
      '@encke/client',
    ],
  ];
  for (const [name, extra, client] of variants) {
    it(`${name}: prints the message and exits 0 by itself`, { timeout: 60_000 }, async () => {
      const example = firstExample();
      assert.match(example, /key: 'dev\.xxxx:yyyy'/);
      assert.match(example, /port: 8080, tls: false/);
      assert.match(
        example,
        /^import \* as Ably from 'ably'; \/\/ or encke's own client: import \* as Ably from '@encke\/client';$/m,
      );
      const source = example
        .replace("from 'ably';", `from '${client}';`)
        .replace("'dev.xxxx:yyyy'", `'${KEYS.full}'`)
        .replace('port: 8080, tls: false', `port: ${ts.port}, tls: false${extra}`);
      const r = await runModule(source);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'greeting hello\n');
    });
  }
});
