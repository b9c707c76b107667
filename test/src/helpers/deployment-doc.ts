/**
 * The configurations in docs/deployment.md, as the tests use them: the fenced block after a
 * `<!-- file: NAME -->` marker. Tests change only what the doc says they change (addresses, ports,
 * the install directory), so the doc is what runs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './process.js';

export const DEPLOYMENT_DOC = join(REPO, 'docs/deployment.md');

export function docFile(name: string): string {
  const doc = readFileSync(DEPLOYMENT_DOC, 'utf8');
  const marker = `<!-- file: ${name} -->`;
  const at = doc.indexOf(marker);
  if (at < 0) throw new Error(`docs/deployment.md has no ${marker}`);
  const m = /^```[^\n]*\n([\s\S]*?)^```$/m.exec(doc.slice(at + marker.length));
  if (!m) throw new Error(`docs/deployment.md: no fenced block after ${marker}`);
  return m[1]!;
}

/** Replaces every line matching `pattern` (at least one must), in order, by `lines`' entries. */
export function replaceLines(text: string, pattern: RegExp, lines: string[]): string {
  const out: string[] = [];
  let found = 0;
  for (const line of text.split('\n')) {
    if (!pattern.test(line)) {
      out.push(line);
      continue;
    }
    if (found++ === 0) out.push(...lines);
  }
  if (found === 0) throw new Error(`no line matches ${pattern}`);
  return out.join('\n');
}
