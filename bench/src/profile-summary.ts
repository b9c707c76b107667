/**
 * Summarises a V8 `.cpuprofile` (from `BENCH_CPU_PROF=dir npm run bench…`, which starts each
 * server with `--cpu-prof`): self time per function and per file, the biggest first.
 *
 *   node bench/dist/profile-summary.js <file.cpuprofile> [top] [from-s] [to-s]
 *   node bench/dist/profile-summary.js <file.cpuprofile> timeline
 */
import { isArrayValue, isPlainObject, parseJson } from '@encke/protocol';
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const isNumber = (v: unknown): v is number => typeof v === 'number';

function isProfileNode(v: unknown): v is ProfileNode {
  if (!isPlainObject(v) || typeof v.id !== 'number' || !isPlainObject(v.callFrame)) return false;
  const f = v.callFrame;
  return (
    typeof f.functionName === 'string' &&
    typeof f.url === 'string' &&
    typeof f.lineNumber === 'number' &&
    (v.children === undefined || (isArrayValue(v.children) && v.children.every(isNumber)))
  );
}

/** Whether `value` is a `.cpuprofile` as far as this file reads it (nodes, samples, time deltas). */
function isCpuProfile(value: unknown): value is CpuProfile {
  return (
    isPlainObject(value) &&
    isArrayValue(value.nodes) &&
    value.nodes.every(isProfileNode) &&
    isArrayValue(value.samples) &&
    value.samples.every(isNumber) &&
    isArrayValue(value.timeDeltas) &&
    value.timeDeltas.every(isNumber)
  );
}

function shortUrl(url: string): string {
  const i = url.lastIndexOf('/node_modules/');
  if (i >= 0) return url.slice(i + 14);
  const p = url.indexOf('/packages/');
  if (p >= 0) return url.slice(p + 10);
  return url.replace(/^file:\/\//, '') || '(native)';
}

function top(map: Map<string, number>, total: number, n: number): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
}

/** Busy (non-idle) sampled time per 100 ms, to find the phases of a run. */
export function timeline(profile: CpuProfile): string {
  const idle = new Set(profile.nodes.filter((node) => node.callFrame.functionName === '(idle)').map((node) => node.id));
  const busy: number[] = [];
  let at = 0;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    const slot = Math.floor(at / 100_000);
    busy[slot] = (busy[slot] ?? 0) + (idle.has(id) ? 0 : (profile.timeDeltas[i] ?? 0));
  });
  return Array.from(busy, (b, i) => `${(i / 10).toFixed(1)}s ${'#'.repeat(Math.round((b ?? 0) / 5000))}`).join('\n');
}

/** Summary of the samples between `from` and `to` seconds after the profile started. */
export function summarise(profile: CpuProfile, n = 25, from = 0, to = Infinity): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfTime = new Map<number, number>();
  let total = 0;
  let at = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (at < from * 1e6 || at > to * 1e6) return;
    selfTime.set(id, (selfTime.get(id) ?? 0) + dt);
    total += dt;
  });
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, t] of selfTime) {
    const f = byId.get(id)!.callFrame;
    const file = shortUrl(f.url);
    const fn = `${f.functionName || '(anonymous)'}  ${file}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + t);
    byFile.set(file, (byFile.get(file) ?? 0) + t);
  }
  // Inclusive time: each sample counts once for every distinct function on its stack.
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const inclusive = new Map<string, number>();
  for (const [id, t] of selfTime) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)!.callFrame;
      if (!f.url) continue;
      const key = `${f.functionName || '(anonymous)'}  ${shortUrl(f.url)}:${f.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + t);
    }
  }
  return [
    `total ${(total / 1e6).toFixed(2)} s sampled`,
    '',
    'self time by function:',
    ...top(byFunction, total, n),
    '',
    'self time by file:',
    ...top(byFile, total, n),
    '',
    'inclusive time by function (JS frames):',
    ...top(inclusive, total, n),
  ].join('\n');
}

if (process.argv[1]?.endsWith('profile-summary.js')) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: profile-summary.js <file.cpuprofile> [top] [from-s] [to-s] | timeline');
  const profile = parseJson(readFileSync(file, 'utf8'));
  if (!isCpuProfile(profile)) throw new Error(`${file}: not a V8 .cpuprofile`);
  const [top, from, to] = process.argv.slice(3);
  console.log(
    top === 'timeline'
      ? timeline(profile)
      : summarise(profile, Number(top ?? 25), Number(from ?? 0), Number(to ?? Infinity)),
  );
}
