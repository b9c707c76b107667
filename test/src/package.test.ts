/**
 * The installable package: `npm pack` of the CLI and its workspace dependencies, installed into an
 * empty directory as docs/deployment.md says; the installed `encke` binary and `npx encke` start,
 * answer GET /health, and drain on SIGTERM; the systemd unit of the doc verifies against that
 * install with `systemd-analyze verify` (Debian's systemd; .ci/run installs it).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { VERSION } from 'encke';
import { docFile } from './helpers/deployment-doc.js';
import { assertDrainsOn, DRAIN_KEY } from './helpers/drain.js';
import { httpGet, REPO, runEncke, spawnProcess, tempDir } from './helpers/process.js';
import { objectOf } from './helpers/field.js';

describe('the installable package', () => {
  let app = '';
  let bin = '';
  before(() => {
    const dist = tempDir('encke-dist-');
    app = join(tempDir('encke-install-'), 'encke');
    // The doc's install block, as written but for what the doc says the test changes.
    const script = docFile('install.sh')
      .split('\n')
      .filter((line) => line.trim() !== 'npm ci')
      .map((line) => line.replaceAll('sudo ', '').replaceAll('/tmp/encke-dist', dist).replaceAll('/opt/encke', app))
      .join('\n');
    assert.match(
      script,
      /npm pack -w packages\/protocol -w packages\/dashboard -w examples\/chat -w packages\/server -w packages\/cli/,
    );
    execFileSync('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: REPO,
      stdio: 'pipe',
      env: { ...process.env, npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' },
    });
    const tarballs = readdirSync(dist).filter((f) => f.endsWith('.tgz'));
    assert.deepEqual(tarballs.sort(), [
      `encke-${VERSION}.tgz`,
      `encke-chat-${VERSION}.tgz`,
      `encke-dashboard-${VERSION}.tgz`,
      `encke-protocol-${VERSION}.tgz`,
      `encke-server-${VERSION}.tgz`,
    ]);
    bin = join(app, 'node_modules/.bin/encke');
  });

  it('installs into an empty directory: encke --version', async () => {
    const r = spawnSync(bin, ['--version'], { cwd: app, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${VERSION}\n`);
    assert.equal((await runEncke(['--version'])).stdout, `${VERSION}\n`);
  });

  it('the installed binary serves GET /health and drains on SIGTERM', { timeout: 60_000 }, async () => {
    const p = spawnProcess(bin, ['serve', '--port', '0', '--key', DRAIN_KEY], { cwd: app, detached: true });
    const port = await p.started();
    const health = await httpGet(port, '/health');
    assert.equal(health.status, 200);
    assert.equal(objectOf(health.body).status, 'ok');
    const exit = await assertDrainsOn(p, 'SIGTERM');
    assert.equal(exit.code, 0);
  });

  it(
    'the installed binary serves the chat demo with --demo (from the installed @encke/chat), not without',
    { timeout: 60_000 },
    async () => {
      for (const demo of [true, false]) {
        const p = spawnProcess(bin, ['serve', '--port', '0', '--key', DRAIN_KEY, ...(demo ? ['--demo'] : [])], {
          cwd: app,
          detached: true,
        });
        const port = await p.started();
        const page = await fetch(`http://127.0.0.1:${port}/`);
        const html = await page.text();
        if (demo) {
          assert.equal(page.status, 200, html);
          assert.match(html, /<title>encke chat<\/title>/);
          const script = /src="(\/demo\/chat\.js)"/.exec(html)?.[1];
          assert.equal((await fetch(`http://127.0.0.1:${port}${script}`)).status, 200);
          assert.equal((await fetch(`http://127.0.0.1:${port}/demo/token?clientId=Ana`)).status, 200);
        } else assert.equal(page.status, 404);
        assert.equal((await assertDrainsOn(p, 'SIGTERM')).code, 0);
      }
    },
  );

  it('npx encke in the install directory drains on SIGTERM', { timeout: 60_000 }, async () => {
    const p = spawnProcess('npx', ['encke', 'serve', '--port', '0', '--key', DRAIN_KEY], { cwd: app, detached: true });
    const exit = await assertDrainsOn(p, 'SIGTERM');
    assert.ok(exit.code === 0 || exit.signal === 'SIGTERM', JSON.stringify(exit));
  });

  it('the systemd unit of docs/deployment.md passes systemd-analyze verify', () => {
    const which = spawnSync('systemd-analyze', ['--version']);
    assert.ifError(which.error ?? null);
    const unit = docFile('encke.service');
    assert.match(unit, /^User=encke$/m, 'not root');
    assert.match(unit, /^KillSignal=SIGTERM$/m);
    assert.match(unit, /^Restart=on-failure$/m);
    // The stop timeout outlasts the drain the unit asks for.
    const stop = Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)?.[1]) * 1000;
    const delay = Number(/--drain-delay (\d+)/.exec(unit)?.[1]);
    const drain = Number(/--drain-timeout (\d+)/.exec(unit)?.[1]);
    assert.ok(stop > delay + drain, `TimeoutStopSec ${stop} ms > drain ${delay + drain} ms`);
    const dir = tempDir('encke-unit-');
    const path = join(dir, 'encke.service');
    writeFileSync(path, unit.replaceAll('/opt/encke', app));
    const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
    assert.equal(r.stderr, '', 'no warnings');
    assert.equal(r.status, 0);
    // A unit with a typo is reported: the check can fail.
    writeFileSync(path, unit.replaceAll('/opt/encke', app).replace('KillSignal=', 'KilSignal='));
    assert.match(
      spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' }).stderr,
      /Unknown key 'KilSignal'/,
    );
  });

  it("the unit's ExecStart flags are flags encke accepts", async () => {
    const exec = /^ExecStart=\S+ (.*)$/m.exec(docFile('encke.service'))![1]!.split(' ');
    const config = join(tempDir(), 'encke.json');
    writeFileSync(config, JSON.stringify({ apps: [{ id: 'app', keys: [{ id: 'k', secret: 'unit-secret-0001' }] }] }));
    const args = exec
      .map((a) => (a === '/etc/encke/encke.json' ? config : a))
      .map((a) => (a === '8080' ? '0' : a === '0.0.0.0' ? '127.0.0.1' : a));
    const p = spawnProcess(bin, args, { cwd: app, detached: true });
    try {
      const port = await p.started();
      assert.equal((await httpGet(port, '/ready')).status, 200);
    } finally {
      p.killGroup();
    }
  });
});
