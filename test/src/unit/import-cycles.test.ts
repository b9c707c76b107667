/**
 * The import graph has no cycles, type-only imports included (issue 13): scripts/import-cycles.mjs
 * (run by `npm run lint`) finds every strongly connected component. Here: it finds the cycles it
 * must (runtime, type-only, re-export, self-import, index resolution) and finds none in the server.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SCRIPT = join(ROOT, 'scripts/import-cycles.mjs');
const work = mkdtempSync(join(tmpdir(), 'encke-cycles-'));
after(() => rmSync(work, { recursive: true, force: true }));

function check(...roots: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [SCRIPT, ...roots], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

/** A source tree from { 'path.ts': 'contents' }. */
function tree(name: string, files: Record<string, string>): string {
  const root = join(work, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const cases: { name: string; files: Record<string, string>; cycle: string | null }[] = [
  {
    name: 'acyclic',
    files: { 'a.ts': "import { b } from './b.js';\nexport const a = b;", 'b.ts': 'export const b = 1;' },
    cycle: null,
  },
  {
    name: 'runtime',
    files: {
      'a.ts': "import { b } from './b.js';\nexport const a = 1;",
      'b.ts': "import { a } from './a.js';\nexport const b = a;",
    },
    cycle: 'a.ts b.ts',
  },
  {
    name: 'type-only',
    files: {
      'a.ts': "import type { B } from './b.js';\nexport interface A { b: B }",
      'b.ts': "import type { A } from './a.js';\nexport interface B { a: A }",
    },
    cycle: 'a.ts b.ts',
  },
  {
    name: 'through a folder index and a re-export',
    files: {
      'a.ts': "export { c } from './dir/index.js';\nexport const a = 1;",
      'dir/index.ts': "export { c } from './c.js';",
      'dir/c.ts': "import { type A } from '../a.js';\nexport const c: A | 1 = 1;",
    },
    cycle: 'a.ts dir/c.ts dir/index.ts',
  },
  {
    name: 'self-import',
    files: { 'a.ts': "import type { A as Self } from './a.js';\nexport interface A { next: Self }" },
    cycle: 'a.ts',
  },
  {
    name: 'packages only',
    files: { 'a.ts': "import { x } from 'a-package';\nimport { y } from 'node:fs';\nexport const a = [x, y];" },
    cycle: null,
  },
];

describe('import cycles (scripts/import-cycles.mjs)', () => {
  for (const c of cases) {
    it(c.cycle ? `finds the ${c.name} cycle` : `finds no cycle: ${c.name}`, () => {
      const r = check(tree(c.name, c.files));
      if (c.cycle === null) {
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr, '');
      } else {
        assert.equal(r.status, 1);
        assert.match(r.stderr, new RegExp(`type imports included\\): ${c.cycle.replace(/\./g, '\\.')}\\n`));
      }
    });
  }

  it('the server, protocol and CLI sources have none (what `npm run lint` checks)', () => {
    const r = check('packages/server/src', 'packages/protocol/src', 'packages/cli/src');
    assert.equal(r.status, 0, r.stderr);
  });
});
