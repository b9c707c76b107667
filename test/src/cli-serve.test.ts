/**
 * `encke serve`, the real command, running: its logs (JSON lines or pretty), the development key
 * kept across restarts, and serving the SDK then draining on SIGTERM. Flags, config files and the
 * command's errors are in cli.test.ts.
 */
import { parseJson } from '@encke/protocol';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLogger, DEV_KEY_FILE, formatPretty, VERSION } from 'encke';
import { closeAll, connect, connectionState, realtimeAt } from './helpers/ably.js';
import { jsonObject } from './helpers/json.js';
import { BIN, REPO, spawnEncke, spawnProcess, tempDir } from './helpers/process.js';

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
        const wrong = realtimeAt(port, 'logapp.k:not-the-secret-0001');
        await connectionState(wrong, 'failed').catch(() => undefined);
        wrong.close();
        const good = realtimeAt(port, `logapp.k:${secret}`);
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
      const client = realtimeAt(port, key);
      await connect(client);
      await closeAll(client);
    } finally {
      second.kill();
    }

    const withKey = spawnEncke(['serve', '--port', '0', '--key', 'mine.k:my-own-secret'], { cwd });
    try {
      const port = await withKey.started();
      assert.doesNotMatch(withKey.stderr, /API key|Development app/);
      const refused = realtimeAt(port, key);
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
      const client = realtimeAt(port, key);
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
