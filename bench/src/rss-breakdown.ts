/**
 * `npm run rss-breakdown -- [--stacks a,b] [--connections N] [--runs N] [--settle-ms MS] [--json]`:
 * where S3's RSS per idle connection goes. Not a benchmark (no rates): for each stack, a fresh
 * server process, S3's job (N idle connections, each attached to its own channel, opened in two
 * halves) and the server's resident memory by kind of mapping and V8 space (servers/breakdown.ts)
 * before the opens, after the first half and after all, each 1 s after the opening (as S3), after
 * two full GCs, RSS `--settle-ms` after them (S3's 500 by default). Prints what each figure grew
 * per 1,000 connections, over all and over the second half; with `--json`, every reading too.
 * `--snapshots DIR` writes V8 heap snapshots before and after the opens (DIR/<stack>-baseline,
 * -loaded.heapsnapshot, for heap-diff.js; the readings come first, as a snapshot costs RSS).
 * `BENCH_SMAPS_DUMP=PREFIX` also writes each reading's /proc/self/smaps to PREFIX-<pid>-<ms>.smaps.
 */
import { parseArgs } from 'node:util';
import { Deployment } from './deployment.js';
import { pinSelf, runGenerator } from './procs.js';
import { profile } from './profiles.js';
import type { Breakdown } from './servers/breakdown.js';
import { STACKS, parseStackIds, type StackId } from './stacks.js';

const SETTLE_MS = 1000;
const MIB = 1024 * 1024;

type Row = [label: string, get: (b: Breakdown) => number];

const space =
  (name: string, field: 'size' | 'used' | 'physical') =>
  (b: Breakdown): number =>
    b.spaces.find((s) => s.name === name)?.[field] ?? 0;

const ROWS: Row[] = [
  ['rss right after the GCs', (b) => b.rssAtGc],
  ['rss', (b) => b.rss],
  ['  malloc, main thread ([heap])', (b) => b.kinds.mallocMain],
  ['  malloc, other threads (arenas)', (b) => b.kinds.mallocThreads],
  ['  other anonymous (V8 heap, big mallocs, stacks)', (b) => b.kinds.anonOther],
  ['  files (node binary, libraries)', (b) => b.kinds.files],
  ['  [stack], [vdso], ...', (b) => b.kinds.special],
  ['V8 heap committed (heapTotal)', (b) => b.heapTotal],
  ['V8 heap resident (all spaces)', (b) => b.spaces.reduce((n, s) => n + s.physical, 0)],
  ['V8 heap used', (b) => b.heapUsed],
  ['  new space committed', space('new_space', 'size')],
  ['  new space resident', space('new_space', 'physical')],
  ['  old space committed', space('old_space', 'size')],
  ['  old space resident', space('old_space', 'physical')],
  ['  old space used', space('old_space', 'used')],
  ['  code space committed', space('code_space', 'size')],
  ['  code space used', space('code_space', 'used')],
  ['  map space committed', space('map_space', 'size')],
  ['  large object space committed', space('large_object_space', 'size')],
  ['  code large object space committed', space('code_large_object_space', 'size')],
  ['external', (b) => b.external],
  ['arrayBuffers', (b) => b.arrayBuffers],
];

interface Measured {
  stack: StackId;
  connections: number;
  half: number;
  baseline: Breakdown;
  atHalf: Breakdown;
  loaded: Breakdown;
}

async function measure(stack: StackId, connections: number, settleMs: number, snapshots?: string): Promise<Measured> {
  const s3 = profile('full').scenarios.find((s) => s.id === 's3')!;
  const server = await Deployment.start(STACKS[stack]);
  const snapshot = async (name: string): Promise<void> => {
    if (snapshots)
      await server.first.ask(
        { type: 'snapshot', file: `${snapshots}/${stack}-${name}.heapsnapshot` },
        'snapshot',
        120_000,
      );
  };
  const ask = (): Promise<Breakdown> => server.first.ask<Breakdown>({ type: 'breakdown', settleMs }, 'breakdown');
  try {
    const baseline = await ask();
    await snapshot('baseline');
    let atHalf: Breakdown | undefined;
    let loaded: Breakdown | undefined;
    let half = 0;
    const result = await runGenerator(
      { ...s3.job, connections, stack, ports: server.ports, serverPids: server.pids },
      s3.timeoutMs,
      async (opened) => {
        await new Promise((r) => setTimeout(r, SETTLE_MS));
        if (opened.half) {
          half = opened.connections;
          atHalf = await ask();
        } else {
          loaded = await ask();
          await snapshot('loaded');
        }
      },
    );
    if (!atHalf || !loaded) throw new Error(`${stack}: the generator did not hold its connections`);
    return { stack, connections: result.open.connections, half, baseline, atHalf, loaded };
  } finally {
    await server.stop();
  }
}

const perThousand = (bytes: number, n: number): string => ((bytes / n / MIB) * 1000).toFixed(3).padStart(8);

function print(all: Measured[]): void {
  const head = all.map((m) => m.stack.padStart(18)).join('');
  process.stdout.write(`\nMiB per 1,000 connections: all (baseline → loaded) | second half (half → loaded)\n`);
  process.stdout.write(`${''.padEnd(50)}${head} |${head}\n`);
  for (const [label, get] of ROWS) {
    const whole = all.map((m) => perThousand(get(m.loaded) - get(m.baseline), m.connections).padStart(18)).join('');
    const more = all
      .map((m) => perThousand(get(m.loaded) - get(m.atHalf), m.connections - m.half).padStart(18))
      .join('');
    process.stdout.write(`${label.padEnd(50)}${whole} |${more}\n`);
  }
  for (const m of all) {
    const grown = Object.entries(m.loaded.filesByPath)
      .map(([path, rss]) => [path, rss - (m.baseline.filesByPath[path] ?? 0)] as const)
      .filter(([, d]) => d !== 0)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([path, d]) => `${path} +${(d / 1024).toFixed(0)} KiB`);
    process.stdout.write(
      `${m.stack}: baseline rss ${(m.baseline.rss / MIB).toFixed(1)} MiB; files grown: ${grown.join(', ') || 'none'}\n`,
    );
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      stacks: { type: 'string', default: 'bare-ws,encke-ws-json,encke-ws-msgpack' },
      connections: { type: 'string', default: '10000' },
      runs: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
      'settle-ms': { type: 'string', default: '500' },
      snapshots: { type: 'string' },
    },
  });
  pinSelf();
  const stacks = parseStackIds(values.stacks);
  const connections = Number(values.connections);
  for (let run = 1; run <= Number(values.runs); run++) {
    const all: Measured[] = [];
    for (const stack of stacks) {
      process.stderr.write(`run ${run}: ${stack}, ${connections} connections\n`);
      all.push(await measure(stack, connections, Number(values['settle-ms']), values.snapshots));
    }
    print(all);
    if (values.json) process.stdout.write(`${JSON.stringify(all)}\n`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
