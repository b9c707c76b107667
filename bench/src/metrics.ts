/** The numbers taken from each case, how they compare to the reference, and the targets. */
import type { JobResult } from './jobs.js';
import type { MemoryReport } from './servers/main.js';
import type { ScenarioId } from './profiles.js';
import type { StackId } from './stacks.js';

export const REFERENCE: StackId = 'bare-ws';
const MIB = 1024 * 1024;

export interface CaseResult {
  scenario: ScenarioId;
  stack: StackId;
  run: number;
  result?: JobResult;
  memory?: { baseline: MemoryReport; loaded: MemoryReport };
  /** Why the case has no numbers (skipped or failed). */
  problem?: string;
}

export interface Metric {
  scenario: ScenarioId;
  key: string;
  label: string;
  unit: string;
  /** Whether a per-run ratio to the reference is shown (`× ref`). */
  ratio: boolean;
  digits: number;
  get(c: CaseResult): number | undefined;
}

const perThousand = (c: CaseResult, field: 'rss' | 'heapUsed'): number | undefined => {
  const m = c.memory;
  const n = c.result?.open.connections;
  if (!m || !n) return undefined;
  return ((m.loaded[field] - m.baseline[field]) / n) * 1000 / MIB;
};

export const METRICS: Metric[] = [
  { scenario: 's1', key: 'max', label: 'max sustained deliveries/s', unit: '/s', ratio: true, digits: 0, get: (c) => c.result?.ramp?.max },
  { scenario: 's1', key: 'p50', label: 'p50 @20k/s', unit: 'ms', ratio: false, digits: 2, get: (c) => c.result?.fixed?.latency.p50 },
  { scenario: 's1', key: 'p99', label: 'p99 @20k/s', unit: 'ms', ratio: false, digits: 2, get: (c) => c.result?.fixed?.latency.p99 },
  { scenario: 's1', key: 'p999', label: 'p99.9 @20k/s', unit: 'ms', ratio: false, digits: 2, get: (c) => c.result?.fixed?.latency.p999 },
  { scenario: 's1', key: 'cpu', label: 'server CPU @20k/s', unit: 'cores', ratio: false, digits: 2, get: (c) => c.result?.fixed?.serverCpu ?? undefined },
  { scenario: 's2', key: 'max', label: 'max sustained deliveries/s', unit: '/s', ratio: true, digits: 0, get: (c) => c.result?.ramp?.max },
  { scenario: 's3', key: 'open', label: 'open rate', unit: 'conn/s', ratio: true, digits: 0, get: (c) => c.result?.open.perSecond },
  { scenario: 's3', key: 'rss', label: 'RSS per 1,000', unit: 'MiB', ratio: true, digits: 2, get: (c) => perThousand(c, 'rss') },
  { scenario: 's3', key: 'heap', label: 'heap per 1,000', unit: 'MiB', ratio: true, digits: 2, get: (c) => perThousand(c, 'heapUsed') },
  { scenario: 's4', key: 'p50', label: 'p50', unit: 'ms', ratio: false, digits: 2, get: (c) => c.result?.fixed?.latency.p50 },
  { scenario: 's4', key: 'p99', label: 'p99', unit: 'ms', ratio: false, digits: 2, get: (c) => c.result?.fixed?.latency.p99 },
  { scenario: 's4', key: 'p999', label: 'p99.9', unit: 'ms', ratio: false, digits: 2, get: (c) => c.result?.fixed?.latency.p999 },
  { scenario: 's4', key: 'delivered', label: 'delivered', unit: '%', ratio: false, digits: 1, get: (c) => (c.result?.fixed ? (100 * c.result.fixed.delivered) / Math.max(1, c.result.fixed.offered) : undefined) },
];

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function summarise(values: readonly number[]): Summary | undefined {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0]!, max: v[v.length - 1]!, n: v.length };
}

/** Values of one metric for one stack, one per run. */
export function values(cases: readonly CaseResult[], m: Metric, stack: StackId): number[] {
  return cases.filter((c) => c.scenario === m.scenario && c.stack === stack).map((c) => m.get(c)).filter((x): x is number => x !== undefined);
}

/** Per-run ratios of one metric to the reference stack in the same run. */
export function ratios(cases: readonly CaseResult[], m: Metric, stack: StackId, reference: StackId = REFERENCE): number[] {
  const out: number[] = [];
  for (const c of cases) {
    if (c.scenario !== m.scenario || c.stack !== stack) continue;
    const ref = cases.find((r) => r.scenario === m.scenario && r.stack === reference && r.run === c.run);
    const a = m.get(c);
    const b = ref ? m.get(ref) : undefined;
    if (a !== undefined && b !== undefined && b > 0) out.push(a / b);
  }
  return out;
}

export interface Target {
  label: string;
  /** The median it is judged on, or undefined when not measured. */
  value: number | undefined;
  pass: boolean | undefined;
  shown: string;
}

function target(label: string, s: Summary | undefined, test: (v: number) => boolean, show: (v: number) => string): Target {
  return { label, value: s?.median, pass: s ? test(s.median) : undefined, shown: s ? show(s.median) : 'not measured' };
}

const metric = (scenario: ScenarioId, key: string): Metric => METRICS.find((m) => m.scenario === scenario && m.key === key)!;
const x = (v: number): string => `${v.toFixed(2)}×`;
const ms = (v: number): string => `${v.toFixed(2)} ms`;
const mib = (v: number): string => `${v.toFixed(2)} MiB`;

/** The targets, judged on medians of same-run ratios. */
export function targets(cases: readonly CaseResult[]): Target[] {
  const out: Target[] = [];
  for (const stack of ['encke-ws-json', 'encke-ws-msgpack'] as const) {
    out.push(target(`S1 ${stack}: max sustained ≥ 2× bare ws`, summarise(ratios(cases, metric('s1', 'max'), stack)), (v) => v >= 2, x));
    out.push(target(`S1 ${stack}: p99 @20k/s ≤ 15 ms`, summarise(values(cases, metric('s1', 'p99'), stack)), (v) => v <= 15, ms));
    out.push(target(`S2 ${stack}: max sustained ≥ 1.5× bare ws`, summarise(ratios(cases, metric('s2', 'max'), stack)), (v) => v >= 1.5, x));
  }
  out.push(target('S3 encke-ws-json: RSS ≤ 8 MiB per 1,000 idle attached connections', summarise(values(cases, metric('s3', 'rss'), 'encke-ws-json')), (v) => v <= 8, mib));
  out.push(target('S3 encke-ws-json: open rate ≥ 0.8× bare ws', summarise(ratios(cases, metric('s3', 'open'), 'encke-ws-json')), (v) => v >= 0.8, x));
  // Comet is measured both ways ably-js can run it: long-polling and streaming.
  for (const comet of ['encke-comet', 'encke-comet-stream'] as const) {
    out.push(target(`S3 ${comet}: RSS ≤ 12 MiB per 1,000 idle connections`, summarise(values(cases, metric('s3', 'rss'), comet)), (v) => v <= 12, mib));
    out.push(target(`S1 ${comet}: max sustained ≥ Socket.IO polling`, summarise(ratios(cases, metric('s1', 'max'), comet, 'socketio-polling')), (v) => v >= 1, x));
    out.push(target(`S4 ${comet}: p99 ≤ 25 ms at 1,000 deliveries/s`, summarise(values(cases, metric('s4', 'p99'), comet)), (v) => v <= 25, ms));
  }
  return out;
}
