// Builds one browser app of the repository (the chat demo, the admin dashboard) into its dist/:
// its entry points bundled by esbuild with @encke/client (ES modules split into chunks, so each
// transport loads only when used; minified, source maps; no
// CDN, no framework), and every file of its static/ folder (HTML, CSS, icons) copied beside them.
import { build } from 'esbuild';
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** @param {string} dir the app's folder; @param {Record<string, string>} entryPoints output name → source file under dir */
export async function buildWebApp(dir, entryPoints) {
  const out = join(dir, 'dist');
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  await build({
    entryPoints: Object.fromEntries(Object.entries(entryPoints).map(([name, file]) => [name, join(dir, file)])),
    outdir: out,
    bundle: true,
    // Each transport of @encke/client is its own chunk, loaded only when it is used.
    splitting: true,
    chunkNames: 'chunk-[hash]',
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    minify: true,
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  for (const file of await readdir(join(dir, 'static'))) await copyFile(join(dir, 'static', file), join(out, file));
}
