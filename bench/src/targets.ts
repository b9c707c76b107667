/** The issues' speed and size targets, judged from a run's cases (bench/README "Targets"). */
import { DELTA_STACKS, MIN_DELTA_SHARE, S8_STACKS } from './delta-bench.js';
import { METRICS, ratios, summarise, values, type CaseResult, type Metric, type Summary } from './metrics.js';
import type { ScenarioId } from './profiles.js';
import type { StackId } from './stacks.js';

export interface Target {
  scenario: ScenarioId;
  issue: number;
  label: string;
  /** The value it is judged on, or undefined when not measured. */
  value: number | undefined;
  pass: boolean | undefined;
  shown: string;
}

/**
 * A target judged on the median over runs, or on the worst run (`worst`: the value furthest from
 * zero, for counts that must be zero in every run).
 */
function target(
  scenario: ScenarioId,
  issue: number,
  label: string,
  s: Summary | undefined,
  test: (v: number) => boolean,
  show: (v: number) => string,
  on: 'median' | 'worst' = 'median',
): Target {
  const worst = (v: Summary): number => (Math.abs(v.min) > Math.abs(v.max) ? v.min : v.max);
  const value = s === undefined ? undefined : on === 'median' ? s.median : worst(s);
  return {
    scenario,
    issue,
    label,
    value,
    pass: value === undefined ? undefined : test(value),
    shown: value === undefined ? 'not measured' : show(value),
  };
}

const metric = (scenario: ScenarioId, key: string): Metric =>
  METRICS.find((m) => m.scenario === scenario && m.key === key)!;
const x = (v: number): string => `${v.toFixed(2)}×`;
const ms = (v: number): string => `${v.toFixed(2)} ms`;
const mib = (v: number): string => `${v.toFixed(2)} MiB`;
const count = (v: number): string => `${v} (worst run)`;

/** The issues' targets, judged on medians of same-run ratios (and on the worst run for losses). */
export function targets(cases: readonly CaseResult[]): Target[] {
  const out: Target[] = [];
  const of = (scenario: ScenarioId, key: string, stack: StackId): Summary | undefined =>
    summarise(values(cases, metric(scenario, key), stack));
  for (const stack of ['encke-ws-json', 'encke-ws-msgpack'] as const) {
    out.push(
      target(
        's1',
        9,
        `S1 ${stack}: max sustained ≥ 2× bare ws`,
        summarise(ratios(cases, metric('s1', 'max'), stack)),
        (v) => v >= 2,
        x,
      ),
    );
    out.push(target('s1', 9, `S1 ${stack}: p99 @20k/s ≤ 15 ms`, of('s1', 'p99', stack), (v) => v <= 15, ms));
    out.push(
      target(
        's2',
        9,
        `S2 ${stack}: max sustained ≥ 1.5× bare ws`,
        summarise(ratios(cases, metric('s2', 'max'), stack)),
        (v) => v >= 1.5,
        x,
      ),
    );
  }
  out.push(
    target(
      's3',
      9,
      'S3 encke-ws-json: RSS ≤ 8 MiB per 1,000 idle attached connections',
      of('s3', 'rss', 'encke-ws-json'),
      (v) => v <= 8,
      mib,
    ),
  );
  out.push(
    target(
      's3',
      9,
      'S3 encke-ws-json: open rate ≥ 0.8× bare ws',
      summarise(ratios(cases, metric('s3', 'open'), 'encke-ws-json')),
      (v) => v >= 0.8,
      x,
    ),
  );
  // Comet is measured both ways ably-js runs it: long-polling and streaming.
  for (const comet of ['encke-comet', 'encke-comet-stream'] as const) {
    out.push(
      target(
        's3',
        9,
        `S3 ${comet}: RSS ≤ 12 MiB per 1,000 idle connections`,
        of('s3', 'rss', comet),
        (v) => v <= 12,
        mib,
      ),
    );
    out.push(
      target(
        's1',
        9,
        `S1 ${comet}: max sustained ≥ Socket.IO polling`,
        summarise(ratios(cases, metric('s1', 'max'), comet, 'socketio-polling')),
        (v) => v >= 1,
        x,
      ),
    );
    out.push(
      target('s4', 9, `S4 ${comet}: p99 ≤ 25 ms at 1,000 deliveries/s`, of('s4', 'p99', comet), (v) => v <= 25, ms),
    );
  }
  // Issue 15: every HTTP technique's idle cost, and its latency against the same run's floors.
  for (const stack of ['encke-sse', 'encke-htmlfile', 'encke-multipart', 'encke-jsonp', 'encke-sse-api'] as const) {
    out.push(
      target(
        's3',
        15,
        `S3 ${stack}: RSS ≤ 12 MiB per 1,000 idle connections`,
        of('s3', 'rss', stack),
        (v) => v <= 12,
        mib,
      ),
    );
  }
  for (const stack of [
    'encke-comet-stream',
    'encke-sse',
    'encke-htmlfile',
    'encke-multipart',
    'encke-sse-api',
  ] as const) {
    out.push(
      target(
        's4',
        15,
        `S4 ${stack}: p99 ≤ 1.2× bare ws`,
        summarise(ratios(cases, metric('s4', 'p99'), stack)),
        (v) => v <= 1.2,
        x,
      ),
    );
  }
  out.push(
    target(
      's4',
      15,
      'S4 encke-jsonp: p99 ≤ 1.2× encke long-polling',
      summarise(ratios(cases, metric('s4', 'p99'), 'encke-jsonp', 'encke-comet')),
      (v) => v <= 1.2,
      x,
    ),
  );
  for (const stack of ['encke-redis-1', 'encke-cluster-2'] as const) {
    out.push(
      target(
        's5',
        8,
        `S5 ${stack}: nothing lost at 20k deliveries/s (missing after drain = 0)`,
        of('s5', 'missing', stack),
        (v) => v === 0,
        count,
        'worst',
      ),
    );
  }
  out.push(...tailTargets(cases));
  for (const stack of ['encke-ws-json', 'encke-ws-msgpack'] as const) {
    out.push(
      target(
        's6',
        5,
        `S6 ${stack}: typing update p99 ≤ 50 ms with 100 members`,
        of('s6', 'p99', stack),
        (v) => v <= 50,
        ms,
      ),
    );
  }
  // Issue 14: correctness of what was measured (no speed target is set for deltas).
  for (const stack of S8_STACKS) {
    out.push(
      target(
        's8',
        14,
        `S8 ${stack}: every document as published (mismatches = 0)`,
        of('s8', 'mismatches', stack),
        (v) => v === 0,
        count,
        'worst',
      ),
    );
  }
  for (const stack of DELTA_STACKS) {
    const pct = (v: number): string => `${v.toFixed(1)}% (worst run)`;
    // Judged on the run with the fewest deltas.
    const share = summarise(values(cases, metric('s8', 'deltas'), stack));
    out.push(
      target(
        's8',
        14,
        `S8 ${stack}: ≥ ${100 * MIN_DELTA_SHARE}% of deliveries as deltas`,
        share && { ...share, median: share.min },
        (v) => v >= 100 * MIN_DELTA_SHARE,
        pct,
      ),
    );
  }
  return out;
}

/** Issue 19: the tail at most 1.1× bare ws, opening and idle memory near it, throughput far past it (per-run ratios, medians). */
function tailTargets(cases: readonly CaseResult[]): Target[] {
  const out: Target[] = [];
  const ratio = (scenario: ScenarioId, key: string, stack: StackId): Summary | undefined =>
    summarise(ratios(cases, metric(scenario, key), stack));
  for (const stack of ['encke-ws-json', 'encke-ws-msgpack', 'encke-comet-stream'] as const) {
    out.push(target('s7', 19, `S7 ${stack}: p99 @20k/s ≤ 1.1× bare ws`, ratio('s7', 'p99', stack), (v) => v <= 1.1, x));
    out.push(
      target('s7', 19, `S7 ${stack}: p99.9 @20k/s ≤ 1.1× bare ws`, ratio('s7', 'p999', stack), (v) => v <= 1.1, x),
    );
  }
  // The issue's S4 column: WebSocket JSON and msgpack, comet streaming; and long-polling, the comet default in browsers.
  for (const stack of ['encke-ws-json', 'encke-ws-msgpack', 'encke-comet-stream', 'encke-comet'] as const) {
    out.push(target('s4', 19, `S4 ${stack}: p99 ≤ 1.1× bare ws`, ratio('s4', 'p99', stack), (v) => v <= 1.1, x));
  }
  for (const stack of ['encke-ws-json', 'encke-ws-msgpack'] as const) {
    out.push(target('s3', 19, `S3 ${stack}: open rate ≥ 0.8× bare ws`, ratio('s3', 'open', stack), (v) => v >= 0.8, x));
    out.push(
      target('s3', 19, `S3 ${stack}: RSS per 1,000 idle ≤ 1.0× bare ws`, ratio('s3', 'rss', stack), (v) => v <= 1.0, x),
    );
    out.push(
      target(
        's1',
        19,
        `S1 ${stack}: deliveries/s at p99 ≤ 50 ms ≥ 5× bare ws`,
        ratio('s1', 'max50', stack),
        (v) => v >= 5,
        x,
      ),
    );
  }
  return out;
}
