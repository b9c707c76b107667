/**
 * Joins a per-fan-out trace (fanout-trace.ts; bench/README "Per-fan-out trace"):
 *   node bench/dist/fanout-trace-report.js <dir>
 * For each generator process (one stack's case) it finds the server process that ran at the same
 * time and, per payload stamp they both saw, splits the fan-out on CLOCK_MONOTONIC:
 *   send → server read (the publish's bytes reach the server's stream),
 *   server read → first write, first → last write (the server's fan-out; per write: its span over
 *   the writes after the first), last write → the generator's last scan (generator lag),
 *   and send → last scan (the fan-out's slowest delivery).
 * Only full fan-outs count (every subscriber scanned: the stamp's count of scans is the case's
 * highest); it prints the p10 / p50 / p90 of each, in ms (per write: µs), as a markdown table.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRACE_COLUMNS, type StampRecord } from './fanout-trace.js';

export interface TraceFile {
  role: string;
  stamps: Map<number, StampRecord>;
  /** Earliest and latest time in the file (µs). */
  from: number;
  to: number;
}

/** Parses one trace file's text (header `# <role> pid <pid>`, a column line, then one line per stamp). */
export function parseTrace(text: string): TraceFile {
  const lines = text.split('\n');
  const role = /^# (\S+)/.exec(lines[0] ?? '')?.[1] ?? 'unknown';
  const stamps = new Map<number, StampRecord>();
  let from = Infinity;
  let to = -Infinity;
  for (const line of lines) {
    if (line === '' || line.startsWith('#') || line.startsWith('stamp')) continue;
    const v = line.split('\t').map(Number);
    if (v.length !== TRACE_COLUMNS.length + 1 || v.some((n) => !Number.isFinite(n))) continue;
    const [stamp, firstRead, lastRead, reads, firstWrite, lastWrite, writes] = v as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    stamps.set(stamp, { firstRead, lastRead, reads, firstWrite, lastWrite, writes });
    for (const t of [firstRead, lastRead, firstWrite, lastWrite]) {
      if (t <= 0) continue;
      from = Math.min(from, t);
      to = Math.max(to, t);
    }
  }
  return { role, stamps, from, to };
}

/** One joined fan-out, in µs. */
export interface FanOut {
  sendToRead: number;
  readToFirstWrite: number;
  fanOut: number;
  perWrite: number;
  generatorLag: number;
  sendToLastScan: number;
}

/** The full fan-outs of `gen` that `server` carried (same stamp, the server's read within 5 s of the send). */
export function join2(gen: TraceFile, server: TraceFile): FanOut[] {
  let most = 0;
  for (const g of gen.stamps.values()) most = Math.max(most, g.reads);
  const out: FanOut[] = [];
  for (const [stamp, g] of gen.stamps) {
    const s = server.stamps.get(stamp);
    if (s === undefined || g.reads < most || g.writes === 0 || s.writes === 0 || s.reads === 0) continue;
    if (s.firstRead < g.firstWrite || s.firstRead - g.firstWrite > 5e6) continue;
    out.push({
      sendToRead: s.firstRead - g.firstWrite,
      readToFirstWrite: s.firstWrite - s.firstRead,
      fanOut: s.lastWrite - s.firstWrite,
      perWrite: s.writes > 1 ? (s.lastWrite - s.firstWrite) / (s.writes - 1) : 0,
      generatorLag: g.lastRead - s.lastWrite,
      sendToLastScan: g.lastRead - g.firstWrite,
    });
  }
  return out;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const ROWS: readonly [keyof FanOut, string, number][] = [
  ['sendToRead', 'send → server read (ms)', 1e3],
  ['readToFirstWrite', 'server read → first write (ms)', 1e3],
  ['fanOut', 'first → last write (ms)', 1e3],
  ['perWrite', 'per write after the first (µs)', 1],
  ['generatorLag', 'last write → generator last scan (ms)', 1e3],
  ['sendToLastScan', 'send → last scan (ms)', 1e3],
];

/** A markdown table: one column per case, p10 / p50 / p90 per row. */
export function table(cases: readonly { name: string; fanOuts: FanOut[] }[]): string {
  let text = `| per fan-out, p10 / p50 / p90 | ${cases.map((c) => `${c.name} (${c.fanOuts.length})`).join(' | ')} |\n`;
  text += `|---|${cases.map(() => '---').join('|')}|\n`;
  for (const [key, label, unit] of ROWS) {
    const cells = cases.map((c) => {
      const v = c.fanOuts.map((f) => f[key] / unit).sort((a, b) => a - b);
      return [0.1, 0.5, 0.9].map((q) => quantile(v, q).toFixed(unit === 1 ? 2 : 3)).join(' / ');
    });
    text += `| ${label} | ${cells.join(' | ')} |\n`;
  }
  return text;
}

function main(dir: string): void {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.tsv'))
    .map((f) => parseTrace(readFileSync(join(dir, f), 'utf8')));
  const gens = files.filter((f) => f.role.startsWith('generator')).sort((a, b) => a.from - b.from);
  const servers = files.filter((f) => f.role.startsWith('server'));
  const cases: { name: string; fanOuts: FanOut[] }[] = [];
  for (const gen of gens) {
    const server = servers.find((s) => s.from <= gen.to && s.to >= gen.from);
    if (server === undefined) continue;
    cases.push({ name: gen.role.replace(/^generator-/, ''), fanOuts: join2(gen, server) });
  }
  process.stdout.write(table(cases));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (dir === undefined) {
    process.stderr.write('usage: node bench/dist/fanout-trace-report.js <trace dir>\n');
    process.exit(2);
  }
  main(dir);
}
