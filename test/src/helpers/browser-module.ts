import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { readField } from '@encke/protocol';
import { importModule } from './module.js';
import { REPO, tempDir } from './process.js';

/** What `typeof` says of a value. */
type TypeofName = 'bigint' | 'boolean' | 'function' | 'number' | 'object' | 'string' | 'symbol' | 'undefined';

/** Every export a test reads of a module, with its `typeof`. */
export type Exports<T> = { readonly [K in keyof T]-?: TypeofName };

/**
 * Bundles one browser module of the repository (examples/chat, packages/dashboard) with esbuild,
 * as the apps' own build does, and imports it, checking that it exports each of `exports` with
 * the `typeof` given (the test fails naming the first that is missing).
 */
export async function loadBrowserModule<T>(entry: string, exports: Exports<T>): Promise<T> {
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
  const mod = await importModule(pathToFileURL(file).href);
  assert.ok(exportsAll(mod, exports), `${entry} does not export ${JSON.stringify(exports)}`);
  return mod;
}

function exportsAll<T>(mod: unknown, exports: Exports<T>): mod is T {
  if (typeof mod !== 'object' || mod === null) return false;
  return Object.entries<TypeofName>(exports).every(([name, type]) => typeof readField(mod, name) === type);
}
