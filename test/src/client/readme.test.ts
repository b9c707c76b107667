/**
 * The README's first example runs unchanged with either client: the official SDK and
 * @encke/client, each in its own Node process against a test server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { KEYS, startServer, type TestServer } from '../helpers/server.js';

const here = dirname(fileURLToPath(import.meta.url));
const README = join(here, '../../../README.md');

/** The first ```js block of the README. */
function firstExample(): string {
  const m = /```js\n([\s\S]*?)```/.exec(readFileSync(README, 'utf8'));
  assert.ok(m?.[1], 'the README has a js example');
  return m[1];
}

/** Runs `code` as an ES module in a child process; resolves with its stdout once `expected` appears. */
function run(code: string, expected: string, timeoutMs = 15_000): Promise<string> {
  // Inside test/dist so that 'ably' and '@encke/client' resolve from the test workspace.
  const dir = mkdtempSync(join(here, 'readme-'));
  const file = join(dir, 'example.mjs');
  writeFileSync(file, code);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const done = (e?: Error): void => {
      clearTimeout(timer);
      child.kill();
      rmSync(dir, { recursive: true, force: true });
      if (e) reject(e);
      else resolve(out);
    };
    const timer = setTimeout(() => done(new Error(`no "${expected}" within ${timeoutMs} ms; stdout: ${out} stderr: ${err}`)), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(expected)) done();
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      if (!out.includes(expected)) done(new Error(`exited ${code}; stdout: ${out} stderr: ${err}`));
    });
  });
}

describe("the README's first example", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer();
  });
  after(async () => {
    await ts.close();
  });

  for (const client of ['ably', '@encke/client']) {
    it(`runs with ${client}`, async () => {
      const example = firstExample();
      assert.match(example, /import \* as Ably from 'ably'; \/\/ or encke's own client: import \* as Ably from '@encke\/client';/);
      const code = example
        .replace(/^import \* as Ably from 'ably';.*$/m, `import * as Ably from '${client}';`)
        .replace(/key: '[^']*'/, `key: '${KEYS.full}'`)
        .replace(/port: 8080/, `port: ${ts.port}`);
      assert.notEqual(code, example);
      const out = await run(code, 'greeting hello');
      assert.match(out, /greeting hello/);
    });
  }
});
