import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { importModule } from './module.js';
import { REPO, tempDir } from './process.js';

/**
 * Bundles one browser module of the repository (examples/chat, packages/dashboard) with esbuild,
 * as the apps' own build does, and imports it.
 */
export async function loadBrowserModule<T>(entry: string): Promise<T> {
  const result = await build({
    entryPoints: [join(REPO, entry)],
    bundle: true,
    format: 'esm',
    platform: 'node',
    write: false,
    logLevel: 'silent',
  });
  const file = join(tempDir('encke-web-app-'), 'module.mjs');
  writeFileSync(file, result.outputFiles[0]!.contents);
  return (await importModule(pathToFileURL(file).href)) as T;
}
