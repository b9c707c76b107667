/** `encke serve`: flags, config files, one-line errors with exit codes, logs, the dev key, --version. */
import { parseJson } from '@encke/protocol';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as Ably from 'ably';
import {
  CliError,
  createLogger,
  DEV_KEY_FILE,
  formatPretty,
  parseCommand,
  VALID_FLAGS,
  VERSION,
  type ServeCommand,
} from 'encke';
import { closeAll, connect, connectionState } from './helpers/ably.js';
import { jsonObject, stringField } from './helpers/json.js';
import { BIN, REPO, runEncke, spawnEncke, spawnProcess, tempDir } from './helpers/process.js';

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

function sdk(key: string, port: number): Ably.Realtime {
  return new Ably.Realtime({
    key,
    endpoint: '127.0.0.1',
    port,
    tls: false,
    logLevel: 0,
    disableConnectivityCheck: true,
    disconnectedRetryTimeout: 60_000,
  });
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

describe('encke serve logs', () => {
  it('JSON lines on stdout by default when piped; the banner on stderr', async () => {
    const p = spawnEncke(['serve', '--port', '0', '--key', 'app.k:secret-secret']);
    try {
      const port = await p.started();
      await p.waitFor(/"msg":"encke listening"/);
      const lines = p.jsonLines();
      const listening = lines.find((l) => l.msg === 'encke listening');
      assert.equal(listening?.level, 'info');
      assert.equal(listening?.port, port);
      assert.match(String(listening?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.match(
        p.stderr,
        new RegExp(`encke ${VERSION.replace(/\./g, '\\.')} is running on http://127\\.0\\.0\\.1:${port}`),
      );
      assert.doesNotMatch(p.stdout, /is running on/);
    } finally {
      p.kill();
    }
  });

  it('--log-format pretty writes a line for people; --log-level warn hides info', async () => {
    const pretty = spawnEncke(['serve', '--port', '0', '--key', 'app.k:secret-secret', '--log-format', 'pretty']);
    const quiet = spawnEncke(['serve', '--port', '0', '--key', 'app.k:secret-secret', '--log-level', 'warn']);
    try {
      const port = await pretty.started();
      await pretty.waitFor(/encke listening/);
      assert.match(
        pretty.stdout,
        new RegExp(
          `^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  encke listening host=127\\.0\\.0\\.1 port=${port} tls=false serverId=encke-\\w+$`,
          'm',
        ),
      );
      await quiet.started();
      assert.equal(quiet.stdout, '');
    } finally {
      pretty.kill();
      quiet.kill();
    }
  });

  it(
    'connection lifecycle at info and refused credentials at warn, with reason codes and no secrets',
    { timeout: 60_000 },
    async () => {
      const secret = 'log-secret-value-0001';
      const p = spawnEncke(['serve', '--port', '0', '--key', `logapp.k:${secret}`]);
      try {
        const port = await p.started();
        const wrong = sdk('logapp.k:not-the-secret-0001', port);
        await connectionState(wrong, 'failed').catch(() => undefined);
        wrong.close();
        const good = sdk(`logapp.k:${secret}`, port);
        await connect(good);
        const id = good.connection.id!;
        await closeAll(good);
        await p.waitFor(/"msg":"connection ended"/);
        const lines = p.jsonLines();
        const refused = lines.find((l) => l.msg === 'connection refused');
        assert.equal(refused?.level, 'warn');
        assert.equal(refused?.code, 40101);
        assert.equal(refused?.transport, 'web_socket');
        const opened = lines.find((l) => l.msg === 'connection opened');
        assert.deepEqual(
          [opened?.level, opened?.connectionId, opened?.keyName, opened?.transport, opened?.format],
          ['info', id, 'logapp.k', 'web_socket', 'msgpack'],
        );
        const ended = lines.find((l) => l.msg === 'connection ended');
        assert.deepEqual([ended?.level, ended?.connectionId, ended?.reason], ['info', id, 'closed']);
        assert.doesNotMatch(p.stdout, new RegExp(`${secret}|not-the-secret`), 'no secrets in logs');
        assert.doesNotMatch(p.stdout, /connectionKey|"key"/);
      } finally {
        p.kill();
      }
    },
  );

  it('pretty by default when stdout is a terminal (the real command under a pty)', { timeout: 60_000 }, async () => {
    // util-linux `script` runs the command on a pseudo-terminal and copies what it shows.
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} serve --port 0 --key app.k:secret-secret`;
    const p = spawnProcess('script', ['-qfec', command, '/dev/null'], { detached: true });
    try {
      await p.waitFor(/INFO.* encke listening host=127\.0\.0\.1 port=\d+/);
      assert.doesNotMatch(p.stdout, /"msg":"encke listening"/);
    } finally {
      p.killGroup();
    }
  });

  it('pretty by default on a terminal, JSON otherwise', () => {
    const out = (isTTY: boolean): string => {
      let text = '';
      createLogger('info', undefined, { isTTY, write: (l: string) => (text += l) }).info({ a: 1 }, 'hello');
      return text;
    };
    assert.match(out(true), /^\d\d:\d\d:\d\d\.\d{3} \x1b\[32mINFO \x1b\[0m hello a=1\n$/);
    assert.deepEqual(Object.keys(jsonObject(out(false))), ['level', 'time', 'a', 'msg']);
    assert.equal(
      formatPretty({ level: 'warn', time: '2026-01-01T10:00:00.000Z', msg: 'x', reason: 'two words', code: 40101 }),
      '10:00:00.000 WARN  x reason="two words" code=40101',
    );
  });
});

describe('the development key survives restarts', () => {
  it('is created once in the state file, reused after a restart, and --key wins', async () => {
    const cwd = tempDir();
    const first = spawnEncke(['serve', '--port', '0'], { cwd });
    let key: string;
    try {
      await first.started();
      key = (await first.waitFor(/API key: (\S+)/))[1]!;
      assert.match(
        first.stderr,
        new RegExp(`Development app created; its key is kept in ${DEV_KEY_FILE.replace('.', '\\.')}`),
      );
      first.kill('SIGTERM');
      assert.equal((await first.closed).code, 0);
    } finally {
      first.kill();
    }
    const file = join(cwd, DEV_KEY_FILE);
    assert.deepEqual(parseJson(readFileSync(file, 'utf8')), { key });
    assert.equal(statSync(file).mode & 0o777, 0o600);

    const second = spawnEncke(['serve', '--port', '0'], { cwd });
    try {
      const port = await second.started();
      assert.equal((await second.waitFor(/API key: (\S+)/))[1], key);
      assert.match(second.stderr, /Development app reused/);
      const client = sdk(key, port);
      await connect(client);
      await closeAll(client);
    } finally {
      second.kill();
    }

    const withKey = spawnEncke(['serve', '--port', '0', '--key', 'mine.k:my-own-secret'], { cwd });
    try {
      const port = await withKey.started();
      assert.doesNotMatch(withKey.stderr, /API key|Development app/);
      const refused = sdk(key, port);
      const failed = connectionState(refused, 'failed').catch((err: Error) => err);
      await failed;
      assert.equal(refused.connection.state, 'failed');
      refused.close();
    } finally {
      withKey.kill();
    }
  });

  it('the state file is git-ignored', () => {
    mkdirSync(join(REPO, '.encke'), { recursive: true });
    const r = spawnSync('git', ['check-ignore', '-q', DEV_KEY_FILE], { cwd: REPO });
    assert.equal(r.status, 0, 'git check-ignore .encke/dev-key.json');
    assert.ok(existsSync(join(REPO, '.gitignore')));
  });
});

describe('encke serve (the real command)', () => {
  it('starts with a development app, serves the SDK, and drains on SIGTERM', async () => {
    const p = spawnEncke(['serve', '--port', '0', '--log-level', 'warn']);
    try {
      const port = await p.started();
      const key = (await p.waitFor(/API key: (\S+)/))[1]!;
      const client = sdk(key, port);
      await connect(client);
      const channel = client.channels.get('cli');
      await channel.attach();
      await channel.publish('hello', 'world');
      const disconnected = connectionState(client, 'disconnected');
      p.kill('SIGTERM');
      const change = await disconnected;
      assert.equal(change?.reason?.code, 80003);
      assert.equal((await p.closed).code, 0);
      await closeAll(client);
    } finally {
      p.kill();
    }
  });
});
