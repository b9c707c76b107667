/**
 * `npm run bench` / `npm run bench:quick`: every scenario × stack × run, each case in a fresh server
 * process and a fresh generator process, then the report (markdown + JSON) and the chart (PNG).
 *
 *   node bench/dist/run.js [--quick] [--runs N] [--stacks a,b] [--scenarios s1,s3] [--out DIR] [--connections N]
 *   (a full run of some scenarios or stacks writes to results/<scenario ids>/, never over the main report)
 *   node bench/dist/run.js --render DIR   (report.md and chart.png again from DIR/report.json)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chartPng, chartSvg } from './chart.js';
import { parseJson } from './clients/client.js';
import type { MemoryReport } from './servers/main.js';
import { residentWithoutYoung, type CaseResult } from './metrics.js';
import { Deployment } from './deployment.js';
import { PINNING, pinSelf, runGenerator } from './procs.js';
import { profile as makeProfile, type Profile, type Scenario, type ScenarioId } from './profiles.js';
import { markdown, type RunInfo } from './report.js';
import { STACKS, parseStackIds, type StackId } from './stacks.js';

/** Idle time before S3 reads the server's memory, so that connection set-up garbage is gone. */
const S3_SETTLE_MS = 1000;
const RESULTS = fileURLToPath(new URL('../results/', import.meta.url));

function log(text: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);
}

async function runCase(scenario: Scenario, stack: StackId, run: number): Promise<CaseResult> {
  const c: CaseResult = { scenario: scenario.id, stack, run };
  let server: Deployment | undefined;
  try {
    server = await Deployment.start(STACKS[stack]);
    const check = STACKS[stack].available;
    if (check && !(await check(server.ports[0]!))) {
      c.problem = 'not served by this build (skipped)';
      return c;
    }
    const baseline: MemoryReport | undefined = scenario.job.hold ? await server.memory() : undefined;
    if (baseline) await snapshot(server, `${stack}-${run}-baseline`);
    let loaded: MemoryReport | undefined;
    let half: { report: MemoryReport; connections: number } | undefined;
    c.result = await runGenerator(
      { ...scenario.job, stack, ports: server.ports, serverPids: server.pids },
      scenario.timeoutMs,
      async (opened) => {
        await new Promise((r) => setTimeout(r, S3_SETTLE_MS));
        if (opened.half) {
          half = { report: await server!.memory(), connections: opened.connections };
          return;
        }
        loaded = await server!.memory();
        await snapshot(server!, `${stack}-${run}-loaded`);
      },
    );
    if (baseline && loaded)
      c.memory = { baseline, loaded, ...(half ? { half: half.report, halfConnections: half.connections } : {}) };
  } catch (err) {
    c.problem = `failed: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    await server?.stop();
  }
  return c;
}

/** How long writing one heap snapshot may take (2,000 held connections: a few seconds). */
const SNAPSHOT_TIMEOUT_MS = 120_000;

/**
 * With `BENCH_HEAP_SNAPSHOT=DIR`, a held scenario (S3) writes the server's heap before the
 * connections open and once they are held, as DIR/<stack>-<run>-{baseline,loaded}.heapsnapshot;
 * `node bench/dist/heap-diff.js BASELINE LOADED N` says what each connection holds.
 */
async function snapshot(server: Deployment, name: string): Promise<void> {
  const dir = process.env.BENCH_HEAP_SNAPSHOT;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await server.first.ask(
    { type: 'snapshot', file: join(dir, `${name}.heapsnapshot`) },
    'snapshot',
    SNAPSHOT_TIMEOUT_MS,
  );
}

function value(m: MemoryReport, k: 'rss' | 'heapUsed' | 'malloc' | 'oldAndMalloc'): number {
  return k === 'oldAndMalloc' ? residentWithoutYoung(m) : m[k];
}

function describe(c: CaseResult): string {
  if (c.problem) return c.problem;
  const r = c.result!;
  const parts = [
    `open ${r.open.connections} in ${r.open.ms} ms (cpu server ${r.open.serverCpu}, generator ${r.open.generatorCpu})`,
  ];
  if (r.fixed)
    parts.push(
      `fixed p50/p99/p99.9 ${r.fixed.latency.p50}/${r.fixed.latency.p99}/${r.fixed.latency.p999} ms, delivered ${r.fixed.delivered}/${r.fixed.offered}, missing after drain ${r.fixed.missing}`,
    );
  if (r.ramp) parts.push(`max ${r.ramp.max}/s (${r.ramp.steps.length} steps, ${r.ramp.note})`);
  if (c.memory) {
    const { baseline, loaded } = c.memory;
    const grew = (k: 'rss' | 'heapUsed' | 'heapTotal' | 'newSpace' | 'external' | 'malloc'): string =>
      ((loaded[k] - baseline[k]) / 1048576).toFixed(1);
    parts.push(
      `rss +${grew('rss')} MiB (heap used +${grew('heapUsed')}, committed +${grew('heapTotal')}, of which young generation +${grew('newSpace')}; external +${grew('external')}; malloc +${grew('malloc')})`,
    );
    const { half, halfConnections } = c.memory;
    if (half && halfConnections) {
      const per = (k: 'rss' | 'heapUsed' | 'malloc' | 'oldAndMalloc'): string =>
        ((((value(loaded, k) - value(half, k)) / (r.open.connections - halfConnections) / 1024) * 1000) / 1024).toFixed(
          2,
        );
      parts.push(
        `second half, per 1,000: rss ${per('rss')} MiB, heap used ${per('heapUsed')}, malloc ${per('malloc')}, old generation committed + malloc ${per('oldAndMalloc')}`,
      );
    }
  }
  if (r.missing !== undefined) parts.push(`missing at the end ${r.missing}`);
  const d = r.documents;
  if (d) {
    const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
    parts.push(
      `${d.bytesPerDelivery.toFixed(0)} B/delivery, ${pct(d.deltaShare)} deltas, documents changed ${pct(d.changedShare)}, checked ${d.checked}, mismatches ${d.mismatches}, unchecked ${d.unchecked}, decoder calls ${d.decoderCalls}`,
    );
  }
  if (r.lost) parts.push(`lost ${r.lost}`);
  return parts.join('; ');
}

async function main(): Promise<void> {
  const parsed = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      stacks: { type: 'string' },
      scenarios: { type: 'string' },
      out: { type: 'string' },
      render: { type: 'string' },
      // A check of the scenarios and stacks with at most N connections each (not a measurement).
      connections: { type: 'string' },
    },
  });
  const args = parsed.values;
  if (args.render) return render(args.render);
  const profile = makeProfile(args.quick ? 'quick' : 'full', args.runs ? Number(args.runs) : undefined);
  const onlyStacks = args.stacks === undefined ? undefined : parseStackIds(args.stacks);
  const onlyScenarios = args.scenarios?.split(',') as ScenarioId[] | undefined;
  for (const s of onlyScenarios ?? [])
    if (!profile.scenarios.some((x) => x.id === s))
      throw new Error(`unknown scenario ${s}; known: ${profile.scenarios.map((x) => x.id).join(', ')}`);
  profile.scenarios = profile.scenarios
    .filter((s) => (onlyScenarios ? onlyScenarios.includes(s.id) : !s.optional))
    .map((s) => ({ ...s, stacks: s.stacks.filter((st) => !onlyStacks || onlyStacks.includes(st)) }));
  const cap = args.connections === undefined ? undefined : Number(args.connections);
  if (cap !== undefined) {
    if (!Number.isSafeInteger(cap) || cap < 1) throw new Error('--connections takes a positive integer');
    profile.scenarios = profile.scenarios.map((s) => ({
      ...s,
      job: { ...s.job, connections: Math.min(s.job.connections, cap), concurrency: Math.min(s.job.concurrency, cap) },
    }));
  }
  pinSelf();
  const started = performance.now();
  const cases: CaseResult[] = [];
  for (let run = 1; run <= profile.runs; run++) {
    for (const scenario of profile.scenarios) {
      for (const stack of runOrder(scenario.stacks, run)) {
        const c = await runCase(scenario, stack, run);
        cases.push(c);
        log(`run ${run} ${scenario.id} ${stack}: ${describe(c)}`);
      }
    }
  }
  const info = {
    date: new Date().toISOString().slice(0, 10),
    machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
    node: process.versions.node,
    pinned: PINNING,
    seconds: (performance.now() - started) / 1000,
  };
  const out =
    args.out ??
    (cap !== undefined ? join(RESULTS, 'check') : defaultOut(profile, Boolean(onlyScenarios || onlyStacks)));
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'report.json'), JSON.stringify({ profile, info, cases }, null, 1));
  process.stdout.write(write(out, profile, cases, info));
  log(`wrote ${out}`);
}

/**
 * The order a run measures a scenario's stacks in: run r starts r - 1 places further along, so that
 * over runs every stack is measured first, second, ... alike (a stack always measured third would
 * carry whatever the machine does late in a scenario; `× ref` pairs cases by run, not by order).
 */
function runOrder<T>(stacks: readonly T[], run: number): T[] {
  const shift = stacks.length === 0 ? 0 : (run - 1) % stacks.length;
  return [...stacks.slice(shift), ...stacks.slice(0, shift)];
}

/**
 * Where a run writes: the full run `results/`, the quick run `results/quick/`; a full run of some
 * scenarios or stacks only `results/<scenario ids>/` (e.g. `results/s5-s6/`), so that it never
 * overwrites the main report.
 */
function defaultOut(profile: Profile, partial: boolean): string {
  if (profile.name === 'quick') return join(RESULTS, 'quick');
  return partial ? join(RESULTS, profile.scenarios.map((s) => s.id).join('-')) : RESULTS;
}

/** Writes report.md and chart.png into `out`; returns the report. */
function write(out: string, profile: Profile, cases: CaseResult[], info: RunInfo): string {
  const report = markdown(profile, cases, info);
  writeFileSync(join(out, 'report.md'), report);
  writeFileSync(
    join(out, 'chart.png'),
    chartPng(chartSvg(profile, cases, `${profile.name}, ${info.date}, ${info.machine}`)),
  );
  return report;
}

/** What `run` saves as report.json and `--render` reads back. */
interface SavedReport {
  profile: Profile;
  info: RunInfo;
  cases: CaseResult[];
}

/** Whether `v` has report.json's three parts (the file is this tool's own output, checked for its shape only). */
function isSavedReport(v: unknown): v is SavedReport {
  if (typeof v !== 'object' || v === null || !('profile' in v) || !('info' in v) || !('cases' in v)) return false;
  const { profile, info, cases } = v;
  return (
    typeof profile === 'object' && profile !== null && typeof info === 'object' && info !== null && Array.isArray(cases)
  );
}

function render(dir: string): void {
  const file = join(dir, 'report.json');
  const saved = parseJson(readFileSync(file, 'utf8'));
  if (!isSavedReport(saved)) throw new Error(`${file} is not a report this tool saved`);
  write(dir, saved.profile, saved.cases, saved.info);
  log(`rendered ${dir}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
