/**
 * `encke serve` flags and config files, and the real command's one-line errors with exit codes,
 * --version and --help. Its logs, the dev key and serving the SDK are in cli-serve.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliError, DEV_KEY_FILE, parseCommand, VALID_FLAGS, VERSION, type ServeCommand } from 'encke';
import { jsonObject, stringField } from './helpers/json.js';
import { REPO, runEncke, tempDir } from './helpers/process.js';

function configFile(content: unknown): string {
  const path = join(tempDir('encke-cli-'), 'encke.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function serve(argv: string[]): ServeCommand {
  const p = parseCommand(argv, {});
  assert.equal(p.command, 'serve');
  return p as ServeCommand;
}

describe('encke serve flags', () => {
  it('parses port, host and repeated keys; no dev key when keys are given', () => {
    const p = serve([
      'serve',
      '--port',
      '9000',
      '--host',
      '0.0.0.0',
      '--key',
      'a.b:secret123',
      '--key',
      'a.c:secret456',
    ]);
    assert.equal(p.options.port, 9000);
    assert.equal(p.options.host, '0.0.0.0');
    assert.deepEqual(p.options.keys, ['a.b:secret123', 'a.c:secret456']);
    assert.equal(p.devKeyFile, undefined);
  });

  it('uses the development app (kept in the dev key file) when nothing defines an app', () => {
    assert.equal(serve(['serve']).devKeyFile, DEV_KEY_FILE);
    assert.equal(serve(['serve', '--dev-key-file', '/tmp/k.json']).devKeyFile, '/tmp/k.json');
    const dev = serve(['serve']);
    assert.equal(dev.options.demo, true);
    assert.ok((dev.options.adminPassword ?? '').length >= 16);
    assert.equal(dev.web.devAdminPassword, dev.options.adminPassword);
    const configured = serve(['serve', '--key', 'a.b:secret123']);
    assert.equal(configured.options.demo, undefined);
    assert.equal(configured.options.adminPassword, undefined);
    assert.equal(serve(['serve', '--key', 'a.b:secret123', '--demo']).options.demo, true);
  });

  it('turns on sandbox mode, with no development app', () => {
    const p = serve(['serve', '--sandbox']);
    assert.equal(p.options.sandbox, true);
    assert.equal(p.devKeyFile, undefined);
    assert.equal(serve(['serve', '--config', configFile({ sandbox: true })]).options.sandbox, true);
  });

  it('shows help and the version', () => {
    assert.equal(parseCommand(['--help'], {}).command, 'help');
    assert.equal(parseCommand([], {}).command, 'help');
    assert.equal(parseCommand(['--version'], {}).command, 'version');
    assert.equal(parseCommand(['-v'], {}).command, 'version');
  });

  it('loads a config file, flags win', () => {
    const path = configFile({
      port: 7000,
      maxMessageSize: 1024,
      apps: [{ id: 'app1', keys: [{ id: 'k1', secret: 'secret-k1-xx' }] }],
    });
    const p = serve(['serve', '--config', path, '--port', '7001']);
    assert.equal(p.options.port, 7001);
    assert.equal(p.options.maxMessageSize, 1024);
    assert.equal(p.options.apps?.length, 1);
    assert.equal(p.devKeyFile, undefined);
    assert.equal(p.configPath, path);
  });

  it('reads the metrics token from the flag or METRICS_TOKEN', () => {
    assert.equal(serve(['serve', '--metrics-token', 'tok-1']).options.metricsToken, 'tok-1');
    assert.equal((parseCommand(['serve'], { METRICS_TOKEN: 'tok-2' }) as ServeCommand).options.metricsToken, 'tok-2');
    assert.equal(serve(['serve']).options.metricsToken, undefined);
  });

  it('reads log level and format from flags or the environment, drain timings and the Redis connect timeout', () => {
    const p = serve([
      'serve',
      '--log-level',
      'debug',
      '--log-format',
      'pretty',
      '--drain-delay',
      '250',
      '--drain-timeout',
      '900',
      '--redis-connect-timeout',
      '1500',
    ]);
    assert.deepEqual(
      [p.logLevel, p.logFormat, p.drainDelay, p.drainTimeout, p.options.redisConnectTimeout],
      ['debug', 'pretty', 250, 900, 1500],
    );
    const e = parseCommand(['serve'], { LOG_LEVEL: 'warn', LOG_FORMAT: 'json' }) as ServeCommand;
    assert.deepEqual([e.logLevel, e.logFormat, e.drainDelay, e.drainTimeout], ['warn', 'json', 0, 5000]);
    assert.equal(serve(['serve']).logFormat, undefined);
  });

  it('reads --tls-cert and --tls-key files into the TLS options', () => {
    const cert = configFile('-----BEGIN CERTIFICATE-----\n');
    const key = configFile('-----BEGIN PRIVATE KEY-----\n');
    const p = serve(['serve', '--key', 'a.b:secret123', '--tls-cert', cert, '--tls-key', key]);
    assert.equal(p.options.tlsCert?.toString(), '-----BEGIN CERTIFICATE-----\n');
    assert.equal(p.options.tlsKey?.toString(), '-----BEGIN PRIVATE KEY-----\n');
  });

  const bad: [string, string[], RegExp][] = [
    [
      '--tls-cert without --tls-key',
      ['serve', '--tls-cert', configFile('x')],
      /--tls-cert and --tls-key must be given together/,
    ],
    [
      'an unreadable --tls-key',
      ['serve', '--tls-cert', configFile('x'), '--tls-key', '/nonexistent/key.pem'],
      /cannot read --tls-key file/,
    ],
    ['a bad port', ['serve', '--port', 'eighty'], /--port/],
    ['a port past 65535', ['serve', '--port', '65536'], /--port must be a whole number from 0 to 65535/],
    ['an unknown command', ['launch'], /unknown command "launch"/],
    ['an unknown flag', ['serve', '--nope'], /unknown option --nope/],
    ['a flag without its value', ['serve', '--port'], /--port/],
    ['a bad log level', ['serve', '--log-level', 'loud'], /--log-level must be one of/],
    ['a bad log format', ['serve', '--log-format', 'xml'], /--log-format must be one of json, pretty/],
    ['a negative drain timeout', ['serve', '--drain-timeout', '-1'], /--drain-timeout/],
    [
      'a zero Redis connect timeout',
      ['serve', '--redis-connect-timeout', '0'],
      /--redis-connect-timeout must be a whole number from 1/,
    ],
    ['a config file that is not JSON', ['serve', '--config', configFile('{nope')], /not valid JSON/],
    ['a config file with an unknown field', ['serve', '--config', configFile({ prot: 1 })], /unknown field "prot"/],
    [
      'a config option of the wrong type',
      ['serve', '--config', configFile({ maxMessageSize: 'big' })],
      /must be a number/,
    ],
    ['a missing config file', ['serve', '--config', '/nonexistent/encke.json'], /Cannot read config file/],
  ];
  for (const [name, argv, message] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(() => parseCommand(argv, {}), message);
    });
  }
});

describe('encke command errors (the real command): one line on stderr and an exit status', () => {
  let busy: net.Server;
  let busyPort = 0;
  let closedPort = 0;
  before(async () => {
    busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as net.AddressInfo).port;
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPort = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });
  after(() => busy.close());

  const key = ['--key', 'app.k:secret-secret'];
  const badApps = configFile({ apps: [{ id: 'bad id', keys: [] }] });
  const notJson = configFile('{nope');
  const corruptDevKey = join(tempDir(), 'dev-key.json');
  writeFileSync(corruptDevKey, '{"key":"not-a-key"}');
  const table: { name: string; argv: () => string[]; exit: number; stderr: () => RegExp }[] = [
    {
      name: 'unknown option, with the valid ones',
      argv: () => ['serve', '--nope'],
      exit: 2,
      stderr: () => new RegExp(`^encke: unknown option --nope \\(valid options: ${VALID_FLAGS.join(', ')}\\)$`),
    },
    {
      name: 'unknown command',
      argv: () => ['start'],
      exit: 2,
      stderr: () => /^encke: unknown command "start" \(commands: serve; see encke --help\)$/,
    },
    {
      name: 'bad log level',
      argv: () => ['serve', '--log-level', 'loud'],
      exit: 2,
      stderr: () => /^encke: --log-level must be one of fatal, error, warn, info, debug, trace, silent; got "loud"$/,
    },
    {
      name: 'bad port',
      argv: () => ['serve', '--port', 'http'],
      exit: 2,
      stderr: () => /^encke: --port must be a whole number from 0 to 65535, got http$/,
    },
    {
      name: 'config file that is not JSON (file named)',
      argv: () => ['serve', '--config', notJson],
      exit: 2,
      stderr: () => new RegExp(`^encke: Config file ${notJson} is not valid JSON: .+$`),
    },
    {
      name: 'config file with a bad app (file named)',
      argv: () => ['serve', '--config', badApps],
      exit: 2,
      stderr: () => new RegExp(`^encke: config file ${badApps}: .*apps\\[0\\]\\.id.*$`),
    },
    {
      name: 'dev key file that holds no key (file named)',
      argv: () => ['serve', '--dev-key-file', corruptDevKey],
      exit: 2,
      stderr: () =>
        new RegExp(
          `^encke: dev key file ${corruptDevKey} does not hold a development key \\(delete it to create a new one\\)$`,
        ),
    },
    {
      name: 'port in use',
      argv: () => ['serve', ...key, '--port', String(busyPort)],
      exit: 1,
      stderr: () =>
        new RegExp(`^encke: port ${busyPort} on 127\\.0\\.0\\.1 is already in use \\(choose another with --port\\)$`),
    },
    {
      name: 'Redis unreachable: bounded retry, then exit 1',
      argv: () => [
        'serve',
        ...key,
        '--port',
        '0',
        '--redis',
        `redis://127.0.0.1:${closedPort}`,
        '--redis-connect-timeout',
        '700',
      ],
      exit: 1,
      stderr: () =>
        new RegExp(
          `^encke: Redis at redis://127\\.0\\.0\\.1:${closedPort}/? unreachable after 700 ms \\(.*ECONNREFUSED.*\\); is it running\\? \\(--redis, --redis-connect-timeout\\)$`,
        ),
    },
  ];
  for (const row of table) {
    it(`${row.name}: exit ${row.exit}`, { timeout: 30_000 }, async () => {
      const r = await runEncke(['--log-level', 'silent', ...row.argv()]);
      assert.equal(r.code, row.exit, r.stderr);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 1, `one line, got: ${r.stderr}`);
      assert.match(lines[0]!, row.stderr());
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  }

  it('--version prints the package version', async () => {
    const r = await runEncke(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${VERSION}\n`);
    assert.equal(
      VERSION,
      stringField(jsonObject(readFileSync(join(REPO, 'packages/cli/package.json'), 'utf8')), 'version'),
    );
  });

  it('--help lists every flag and exits 0', async () => {
    const r = await runEncke(['--help']);
    assert.equal(r.code, 0);
    for (const flag of VALID_FLAGS) assert.match(r.stdout, new RegExp(`${flag}\\b`));
  });

  it('CliError carries the exit status', () => {
    assert.equal(new CliError('x', 1).exitCode, 1);
  });
});
