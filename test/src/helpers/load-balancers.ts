/**
 * Real load balancers from Debian (HAProxy, nginx) in front of test nodes, configured with the
 * configurations of docs/deployment.md: only the listen address and the upstream addresses change.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { docFile, replaceLines } from './deployment-doc.js';
import { spawnProcess, tempDir, until, type EnckeProcess } from './process.js';

export interface LoadBalancer {
  name: string;
  port: number;
  process: EnckeProcess;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Points each upstream line's `host:port` at the next test node (the doc lists as many as the test runs). */
function pointUpstreams(config: string, serverLine: RegExp, ports: number[]): string {
  let i = 0;
  const lines = config.split('\n').map((line) => {
    if (!serverLine.test(line)) return line;
    const port = ports[i++];
    assert.ok(port !== undefined, 'the doc lists more upstreams than the test runs');
    return line.replace(/\b\d+\.\d+\.\d+\.\d+:\d+\b/, `127.0.0.1:${port}`);
  });
  assert.equal(i, ports.length, 'the doc lists as many upstreams as the test runs');
  return lines.join('\n');
}

function requireCommand(command: string, versionFlag: string): void {
  const r = spawnSync(command, [versionFlag]);
  if (r.error)
    throw new Error(`${command} is not installed: these tests need it (apt-get install ${command}; .ci/run does it)`);
}

export async function startHaproxy(ports: number[]): Promise<LoadBalancer> {
  requireCommand('haproxy', '-v');
  const port = await freePort();
  let config = replaceLines(docFile('haproxy.cfg'), /^\s*bind /, [`    bind 127.0.0.1:${port}`]);
  config = pointUpstreams(config, /^\s*server /, ports);
  const dir = tempDir('encke-haproxy-');
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  const check = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8' });
  assert.equal(check.status, 0, `haproxy -c: ${check.stdout}${check.stderr}`);
  const p = spawnProcess('haproxy', ['-db', '-f', file], { cwd: dir, detached: true });
  return running('haproxy', port, p);
}

export async function startNginx(ports: number[]): Promise<LoadBalancer> {
  requireCommand('nginx', '-v');
  const port = await freePort();
  let site = replaceLines(docFile('nginx-encke.conf'), /^\s*listen /, [`    listen 127.0.0.1:${port};`]);
  site = pointUpstreams(site, /^\s*server \d/, ports);
  const dir = tempDir('encke-nginx-');
  for (const d of ['body', 'proxy']) mkdirSync(join(dir, d));
  const config = [
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log warn;`,
    'worker_processes 1;',
    'events { worker_connections 4096; }',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${dir}/body;`,
    `  proxy_temp_path ${dir}/proxy;`,
    site,
    '}',
  ].join('\n');
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, config);
  const check = spawnSync('nginx', ['-t', '-p', dir, '-c', file], { encoding: 'utf8' });
  assert.equal(check.status, 0, `nginx -t: ${check.stdout}${check.stderr}`);
  const p = spawnProcess('nginx', ['-p', dir, '-c', file, '-g', 'daemon off;'], { cwd: dir, detached: true });
  return running('nginx', port, p);
}

async function running(name: string, port: number, p: EnckeProcess): Promise<LoadBalancer> {
  await until(
    () => {
      if (p.child.exitCode !== null) throw new Error(`${name} exited: ${p.output}`);
      return accepts(port);
    },
    `${name} listening on ${port}`,
    15_000,
  );
  return {
    name,
    port,
    process: p,
    close: async () => {
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.killGroup(), 5000);
      await p.closed;
      clearTimeout(timer);
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}
