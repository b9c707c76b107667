/** The numbers taken from each case, how they compare to the reference, and the targets. */
import { DELTA_METRICS } from './delta-bench.js';
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
  /** S3: before opening, with the first half open (`halfConnections`), and with every connection open. */
  memory?: { baseline: MemoryReport; loaded: MemoryReport; half?: MemoryReport; halfConnections?: number };
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
  return (((m.loaded[field] - m.baseline[field]) / n) * 1000) / MIB;
};

/**
 * The memory a server holds apart from V8's young generation: its old generation as committed, and
 * what its mallocs hold. The young generation is sized by how much garbage was made lately (it
 * grows to 2 × 16 MiB while connections open, whatever they keep), so RSS differences over a few
 * thousand connections are mostly its noise; this is what the connections themselves hold.
 */
export function residentWithoutYoung(m: MemoryReport): number {
  return m.heapTotal - m.newSpace + m.malloc;
}

/** What the second half of the connections added, per 1,000: the cost of more connections, without a server's one-off growth. */
const marginalPerThousand = (c: CaseResult, get: (m: MemoryReport) => number): number | undefined => {
  const m = c.memory;
  const n = c.result?.open.connections;
  if (!m?.half || !m.halfConnections || !n || n <= m.halfConnections) return undefined;
  return (((get(m.loaded) - get(m.half)) / (n - m.halfConnections)) * 1000) / MIB;
};

const PERCENTILES = { p50: 'p50', p99: 'p99', p999: 'p99.9', max: 'max' } as const;
type Percentile = keyof typeof PERCENTILES;

/** p50/p99/p99.9 (and `more`) of the fixed-rate phase; `at` says at what rate; `ratio` adds per-run ratios to the reference. */
function latencies(
  scenario: ScenarioId,
  at = '',
  ratio = false,
  keys: readonly Percentile[] = ['p50', 'p99', 'p999'],
): Metric[] {
  return keys.map((key) => ({
    scenario,
    key,
    label: `${PERCENTILES[key]}${at}`,
    unit: 'ms',
    ratio,
    digits: 2,
    get: (c: CaseResult) => c.result?.fixed?.latency[key],
  }));
}

/** Throughput at p99 ≤ 50 ms: the highest delivered rate of a sustained ramp step whose p99 was within 50 ms. */
const P99_BOUND_MS = 50;
function maxWithinP99(c: CaseResult): number | undefined {
  const steps = c.result?.ramp?.steps;
  if (!steps) return undefined;
  let best = 0;
  for (const s of steps) if (s.ok && s.latency.p99 <= P99_BOUND_MS && s.delivered > best) best = s.delivered;
  return best;
}

const maxSustained = (scenario: ScenarioId): Metric => ({
  scenario,
  key: 'max',
  label: 'max sustained deliveries/s',
  unit: '/s',
  ratio: true,
  digits: 0,
  get: (c) => c.result?.ramp?.max,
});
const serverCpu = (scenario: ScenarioId, at = ''): Metric => ({
  scenario,
  key: 'cpu',
  label: `server CPU${at}`,
  unit: 'cores',
  ratio: false,
  digits: 2,
  get: (c) => c.result?.fixed?.serverCpu ?? undefined,
});
const missingAtEnd = (scenario: ScenarioId): Metric => ({
  scenario,
  key: 'end',
  label: 'missing at the end',
  unit: 'deliveries',
  ratio: false,
  digits: 0,
  get: (c) => c.result?.missing,
});

/** S1's and S5's numbers: the ramp's maximum, then latency and server CPU at the fixed 20k/s. */
const fanOut = (scenario: ScenarioId): Metric[] => [
  maxSustained(scenario),
  ...latencies(scenario, ' @20k/s', scenario === 's1'),
  serverCpu(scenario, ' @20k/s'),
];

export const METRICS: Metric[] = [
  ...fanOut('s1'),
  {
    scenario: 's1',
    key: 'max50',
    label: `deliveries/s at p99 ≤ ${P99_BOUND_MS} ms`,
    unit: '/s',
    ratio: true,
    digits: 0,
    get: maxWithinP99,
  },
  ...latencies('s7', '', true, ['p50', 'p99', 'p999', 'max']),
  serverCpu('s7'),
  {
    scenario: 's7',
    key: 'stall',
    label: 'generator stall p99',
    unit: 'ms',
    ratio: false,
    digits: 2,
    get: (c) => c.result?.fixed?.generatorStall?.p99,
  },
  maxSustained('s2'),
  {
    scenario: 's3',
    key: 'open',
    label: 'open rate',
    unit: 'conn/s',
    ratio: true,
    digits: 0,
    get: (c) => c.result?.open.perSecond,
  },
  {
    scenario: 's3',
    key: 'rss',
    label: 'RSS per 1,000',
    unit: 'MiB',
    ratio: true,
    digits: 2,
    get: (c) => perThousand(c, 'rss'),
  },
  {
    scenario: 's3',
    key: 'heap',
    label: 'heap per 1,000',
    unit: 'MiB',
    ratio: true,
    digits: 2,
    get: (c) => perThousand(c, 'heapUsed'),
  },
  {
    scenario: 's3',
    key: 'held-more',
    label: 'old gen. + malloc per 1,000 more',
    unit: 'MiB',
    ratio: true,
    digits: 2,
    get: (c) => marginalPerThousand(c, residentWithoutYoung),
  },
  {
    scenario: 's3',
    key: 'heap-more',
    label: 'heap per 1,000 more',
    unit: 'MiB',
    ratio: true,
    digits: 2,
    get: (c) => marginalPerThousand(c, (m) => m.heapUsed),
  },
  ...latencies('s4', '', true),
  {
    scenario: 's4',
    key: 'delivered',
    label: 'delivered',
    unit: '%',
    ratio: false,
    digits: 1,
    get: (c) => (c.result?.fixed ? (100 * c.result.fixed.delivered) / Math.max(1, c.result.fixed.offered) : undefined),
  },
  ...fanOut('s5'),
  {
    scenario: 's5',
    key: 'missing',
    label: 'missing @20k/s',
    unit: 'deliveries',
    ratio: false,
    digits: 0,
    get: (c) => c.result?.fixed?.missing,
  },
  missingAtEnd('s5'),
  maxSustained('s5b'),
  missingAtEnd('s5b'),
  ...latencies('s6'),
  serverCpu('s6'),
  {
    scenario: 's6',
    key: 'missing',
    label: 'missing',
    unit: 'deliveries',
    ratio: false,
    digits: 0,
    get: (c) => c.result?.fixed?.missing,
  },
  ...DELTA_METRICS,
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
  return cases
    .filter((c) => c.scenario === m.scenario && c.stack === stack)
    .map((c) => m.get(c))
    .filter((x): x is number => x !== undefined);
}

/** Per-run ratios of one metric to the reference stack in the same run. */
export function ratios(
  cases: readonly CaseResult[],
  m: Metric,
  stack: StackId,
  reference: StackId = REFERENCE,
): number[] {
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
