#!/usr/bin/env node
/**
 * Import cycles among the TypeScript files under each directory given, type-only imports
 * included. ESLint's import-x/no-cycle (eslint.config.mjs) ignores `import type`, which has no
 * run-time effect; but a type cycle still ties files together (none can be read, moved or tested
 * without the others), so `npm run lint` also runs this. Prints each cycle (a strongly connected
 * component of the import graph) and exits 1 if there is one.
 *
 *   node scripts/import-cycles.mjs packages/server/src
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The files under the root that `file` imports or re-exports from (relative specifiers only). */
function importsOf(file) {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const found = [];
  for (const { fileName } of importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const base = resolve(dirname(file), fileName).replace(/\.js$/, '');
    const target = [`${base}.ts`, join(base, 'index.ts')].find((p) => existsSync(p));
    if (target) found.push(target);
  }
  return found;
}

/** Strongly connected components of more than one file (Tarjan), or a file importing itself. */
export function findCycles(root) {
  const graph = new Map(sourceFiles(resolve(root)).map((f) => [f, importsOf(f)]));
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const cycles = [];
  const visit = (v) => {
    index.set(v, index.size);
    low.set(v, index.get(v));
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) !== index.get(v)) return;
    const component = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.push(relative(resolve(root), w));
    } while (w !== v);
    if (component.length > 1 || graph.get(v).includes(v)) cycles.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return cycles;
}

const roots = process.argv.slice(2);
let failed = false;
for (const root of roots) {
  for (const cycle of findCycles(root)) {
    failed = true;
    console.error(`import cycle in ${root} (${cycle.length} files, type imports included): ${cycle.join(' ')}`);
  }
}
process.exit(failed ? 1 : 0);
