/** `encke serve`: flags, config files, and the real command as the README runs it. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as Ably from 'ably';
import { parseCommand } from 'encke';
import { closeAll, connect, connectionState } from './helpers/ably.js';

const BIN = fileURLToPath(new URL('../../packages/cli/bin/encke.js', import.meta.url));

function configFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'encke-cli-'));
  const path = join(dir, 'encke.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('encke serve flags', () => {
  it('parses port, host and repeated keys; no dev key when keys are given', () => {
    const p = parseCommand(['serve', '--port', '9000', '--host', '0.0.0.0', '--key', 'a.b:secret123', '--key', 'a.c:secret456'], {});
    assert.equal(p.command, 'serve');
    assert.equal(p.options.port, 9000);
    assert.equal(p.options.host, '0.0.0.0');
    assert.deepEqual(p.options.keys, ['a.b:secret123', 'a.c:secret456']);
    assert.equal(p.devKey, undefined);
  });

  it('creates a development key when nothing defines an app', () => {
    const p = parseCommand(['serve'], {});
    assert.match(p.devKey ?? '', /^dev\.[0-9a-f]{8}:[A-Za-z0-9_-]{24}$/);
    assert.deepEqual(p.options.apps?.[0]?.keys, [{ key: p.devKey }]);
    assert.equal(p.options.demo, true);
    assert.ok((p.options.adminPassword ?? '').length >= 16);
  });

  it('turns on sandbox mode, with no development app', () => {
    const p = parseCommand(['serve', '--sandbox'], {});
    assert.equal(p.options.sandbox, true);
    assert.equal(p.devKey, undefined);
    assert.equal(parseCommand(['serve', '--config', configFile({ sandbox: true })], {}).options.sandbox, true);
  });

  it('shows help', () => {
    assert.equal(parseCommand(['--help'], {}).command, 'help');
    assert.equal(parseCommand([], {}).command, 'help');
  });

  it('loads a config file, flags win', () => {
    const path = configFile({ port: 7000, maxMessageSize: 1024, apps: [{ id: 'app1', keys: [{ id: 'k1', secret: 'secret-k1-xx' }] }] });
    const p = parseCommand(['serve', '--config', path, '--port', '7001'], {});
    assert.equal(p.options.port, 7001);
    assert.equal(p.options.maxMessageSize, 1024);
    assert.equal(p.options.apps?.length, 1);
    assert.equal(p.devKey, undefined);
  });

  it('reads --tls-cert and --tls-key files into the TLS options', () => {
    const cert = configFile('-----BEGIN CERTIFICATE-----\n');
    const key = configFile('-----BEGIN PRIVATE KEY-----\n');
    const p = parseCommand(['serve', '--key', 'a.b:secret123', '--tls-cert', cert, '--tls-key', key], {});
    assert.equal(p.options.tlsCert?.toString(), '-----BEGIN CERTIFICATE-----\n');
    assert.equal(p.options.tlsKey?.toString(), '-----BEGIN PRIVATE KEY-----\n');
  });

  const bad: [string, string[], RegExp][] = [
    ['--tls-cert without --tls-key', ['serve', '--tls-cert', configFile('x')], /--tls-cert and --tls-key must be given together/],
    ['an unreadable --tls-key', ['serve', '--tls-cert', configFile('x'), '--tls-key', '/nonexistent/key.pem'], /Cannot read --tls-key file/],
    ['a bad port', ['serve', '--port', 'eighty'], /--port/],
    ['an unknown command', ['launch'], /Unknown command/],
    ['an unknown flag', ['serve', '--nope'], /Unknown option/],
    ['a config file that is not JSON', ['serve', '--config', configFile('{nope')], /not valid JSON/],
    ['a config file with an unknown field', ['serve', '--config', configFile({ prot: 1 })], /unknown field "prot"/],
    ['a config option of the wrong type', ['serve', '--config', configFile({ maxMessageSize: 'big' })], /must be a number/],
    ['a missing config file', ['serve', '--config', '/nonexistent/encke.json'], /Cannot read config file/],
  ];
  for (const [name, argv, message] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(() => parseCommand(argv, {}), message);
    });
  }
});

describe('encke serve (the real command)', () => {
  it('starts with a development app, serves the SDK, and drains on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 10_000;
      while (!/API key: (\S+)/.test(out) || !/port: (\d+)/.test(out)) {
        if (Date.now() > deadline) throw new Error(`no key printed: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const key = /API key: (\S+)/.exec(out)![1]!;
      const port = Number(/port: (\d+)/.exec(out)![1]);
      const client = new Ably.Realtime({ key, endpoint: '127.0.0.1', port, tls: false, logLevel: 0, disableConnectivityCheck: true, disconnectedRetryTimeout: 60_000 });
      await connect(client);
      const channel = client.channels.get('cli');
      await channel.attach();
      await channel.publish('hello', 'world');
      const disconnected = connectionState(client, 'disconnected');
      child.kill('SIGTERM');
      const change = await disconnected;
      assert.equal(change?.reason?.code, 80003);
      assert.equal(await exited, 0);
      await closeAll(client);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('exits with status 2 and a message for a bad config', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--config', configFile({ apps: [{ id: 'bad id', keys: [] }] })], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 2);
    assert.match(err, /apps\[0\]\.id/);
  });
});
