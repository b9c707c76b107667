#!/usr/bin/env node
/**
 * Browser bundle sizes, min+gzip, measured with esbuild the same way for @encke/client and the
 * official ably-js SDK:
 * - encke: dist/index.js bundled for the browser with code splitting, so each transport (and the
 *   msgpack codec) is its own chunk loaded on demand; "core + web_socket + xhr_polling" is the
 *   entry chunk plus every chunk those two transports load.
 * - ably-js: `import * as Ably from 'ably'` (the full browser build) and the modular variant with
 *   the same capability (BaseRealtime + WebSocketTransport + XHRPolling + FetchRequest + presence).
 * Prints a table; with --json prints the numbers; with --check exits 1 when a budget is exceeded.
 */
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BUDGET = { core: 12 * 1024, extra: 3 * 1024 };
const here = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(here, '..');

const TRANSPORT_NAMES = new Set([
  'web_socket',
  'xhr_polling',
  'xhr_streaming',
  'polling',
  'sse',
  'jsonp',
  'iframe',
  'multipart',
]);
const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;

async function bundle(entryContents, resolveDir, splitting) {
  const outdir = mkdtempSync(join(tmpdir(), 'encke-size-'));
  try {
    const result = await build({
      stdin: { contents: entryContents, resolveDir, loader: 'js' },
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      splitting,
      outdir,
      write: true,
      metafile: true,
      logLevel: 'silent',
      legalComments: 'none',
    });
    const chunks = {};
    for (const [file, meta] of Object.entries(result.metafile.outputs)) {
      if (!file.endsWith('.js')) continue;
      const bytes = readFileSync(resolve(file));
      chunks[relative(outdir, resolve(file))] = {
        min: bytes.length,
        gzip: gz(bytes),
        imports: meta.imports.map((i) => ({ path: relative(outdir, resolve(i.path)), kind: i.kind })),
        inputs: Object.keys(meta.inputs),
        entry: meta.entryPoint === '<stdin>',
      };
    }
    return chunks;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** A chunk and everything it imports statically. */
function closure(chunks, start, acc = new Set()) {
  if (acc.has(start)) return acc;
  acc.add(start);
  for (const i of chunks[start]?.imports ?? []) if (i.kind === 'import-statement') closure(chunks, i.path, acc);
  return acc;
}

const sum = (chunks, names) =>
  [...names].reduce((n, c) => ({ min: n.min + chunks[c].min, gzip: n.gzip + chunks[c].gzip }), { min: 0, gzip: 0 });

/** The chunk whose inputs include `srcFile` (e.g. dist/transports/websocket.js). */
function chunkOf(chunks, srcFile) {
  return Object.keys(chunks).find((c) => chunks[c].inputs.some((i) => i.endsWith(srcFile)));
}

export async function measure() {
  const encke = await bundle(`export * from ${JSON.stringify(join(pkg, 'dist/index.js'))};`, pkg, true);
  const entry = Object.keys(encke).find((c) => encke[c].entry);
  const core = closure(encke, entry);
  const transports = {
    web_socket: 'dist/transports/websocket.js',
    xhr_polling: 'dist/transports/comet.js',
    xhr_streaming: 'dist/transports/streaming.js',
    polling: 'dist/transports/polling.js',
    sse: 'dist/transports/sse.js',
    jsonp: 'dist/transports/jsonp.js',
    iframe: 'dist/transports/iframe.js',
    multipart: 'dist/transports/multipart.js',
    msgpack: 'dist/codec/msgpack.js',
    presence: 'dist/channel/presence-core.js',
    'history (REST paging)': 'dist/channel/paginated.js',
    'authUrl / signed token requests': 'dist/auth/obtain.js',
  };
  const parts = {};
  for (const [name, src] of Object.entries(transports)) {
    const c = chunkOf(encke, src);
    if (c) parts[name] = closure(encke, c);
  }
  const base = new Set([...core, ...(parts.web_socket ?? []), ...(parts.xhr_polling ?? [])]);
  const rows = [{ name: '@encke/client core (connection, channels, pub/sub, auth, JSON)', ...sum(encke, core) }];
  rows.push({ name: '@encke/client core + web_socket + xhr_polling', ...sum(encke, base), budget: BUDGET.core });
  for (const [name, set] of Object.entries(parts)) {
    if (name === 'web_socket' || name === 'xhr_polling' || !TRANSPORT_NAMES.has(name)) continue;
    const extra = [...set].filter((c) => !base.has(c));
    rows.push({ name: `  + ${name}`, ...sum(encke, extra), budget: BUDGET.extra });
  }
  for (const [name, set] of Object.entries(parts)) {
    if (TRANSPORT_NAMES.has(name)) continue;
    const extra = [...set].filter((c) => !base.has(c));
    rows.push({ name: `  + ${name} (loaded on first use)`, ...sum(encke, extra) });
  }
  // One connection per browser (shareConnection): loaded only by clients that set it.
  const sharing = (srcs) => {
    const set = new Set();
    for (const src of srcs) {
      const c = chunkOf(encke, src);
      if (c) closure(encke, c, set);
    }
    return sum(
      encke,
      [...set].filter((c) => !base.has(c)),
    );
  };
  rows.push({
    name: '  + shareConnection, leader tab path (link, election, hub) (loaded when set)',
    ...sharing(['dist/shared/tab.js', 'dist/shared/leader.js']),
  });
  rows.push({
    name: '  + shareConnection, SharedWorker path in the page (link, port) (loaded when set)',
    ...sharing(['dist/shared/tab.js', 'dist/shared/worker-port.js']),
  });
  const worker = await bundle(`import ${JSON.stringify(join(pkg, 'dist/shared/worker.js'))};`, pkg, false);
  rows.push({
    name: 'SharedWorker script (@encke/client/shared-worker, its own file)',
    ...sum(worker, Object.keys(worker)),
  });
  const ablyDir = dirname(fileURLToPath(import.meta.resolve('ably', import.meta.url)));
  const full = await bundle(`import * as Ably from 'ably'; globalThis.Ably = Ably;`, ablyDir, false);
  rows.push({ name: 'ably-js 2.x browser build (import from "ably")', ...sum(full, Object.keys(full)) });
  const modular = await bundle(
    `import { BaseRealtime, WebSocketTransport, XHRPolling, FetchRequest, RealtimePresence } from 'ably/modular';
     globalThis.Ably = { BaseRealtime, WebSocketTransport, XHRPolling, FetchRequest, RealtimePresence };`,
    ablyDir,
    false,
  );
  rows.push({
    name: 'ably-js modular: BaseRealtime + WebSocket + XHRPolling + fetch + presence',
    ...sum(modular, Object.keys(modular)),
  });
  return rows;
}

const kb = (n) => `${(n / 1024).toFixed(2)} KB`;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rows = await measure();
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  } else {
    console.log('| bundle | min | min+gzip | budget |\n|---|---:|---:|---:|');
    for (const r of rows) console.log(`| ${r.name} | ${kb(r.min)} | ${kb(r.gzip)} | ${r.budget ? kb(r.budget) : ''} |`);
  }
  const over = rows.filter((r) => r.budget !== undefined && r.gzip > r.budget);
  if (process.argv.includes('--check') && over.length > 0) {
    console.error(`over budget: ${over.map((r) => r.name.trim()).join(', ')}`);
    process.exit(1);
  }
}
