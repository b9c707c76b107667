/**
 * `npm run probe`: what one delivery and one connection open cost a server, counted in ways that
 * do not depend on how busy the machine is, so that causes of tail latency can be found and fixes
 * checked on a shared machine (the latency itself needs a quiet one: `npm run bench`).
 *
 *   node bench/dist/probe.js [--stacks bare-ws,encke-ws-json] [--subscribers 200] [--messages 100]
 *     [--rate 20] [--warmup 200] [--idle MS] [--layout shared|own] [--callgrind DIR] [--heap-prof DIR]
 *     [--cpu-prof DIR] [--strace DIR] [--json FILE]
 *
 * `--layout own` opens each subscriber on its own channel (`own-<i>`), as S3 does, so that the open
 * phase counts creating a channel per connection as S3's opens do; there is then no shared channel
 * to publish on, so the delivery phase is left out.
 *
 * For each stack: a fresh server process (as in the bench), then from this process `subscribers`
 * connections on one channel and a publisher. Two phases are measured in the server between marks
 * (servers/probe-agent.ts): opening the second half of the subscribers (the first half warms the
 * server up), and `messages` 200-byte messages published at `rate` per second (0: each as soon as
 * the previous one reached every subscriber) after `warmup` unmeasured ones (default 200: the
 * JIT's optimising compiler runs on other threads, and valgrind counts them too). With `--idle MS`
 * a third phase holds the connections idle that long (the periodic work a server does for them). For each phase: bytes allocated (JS heap and Buffers), garbage collections and their
 * pauses, server CPU time, and with `--callgrind` the instructions the server's main thread
 * executed (valgrind counts them; slow, so use a few hundred subscribers).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Conn, Pub } from './clients/client.js';
import { Deployment } from './deployment.js';
import { ownChannel } from './load.js';
import { makePayload, paddingFor, Sink } from './payload.js';
import type { ServerStart } from './procs.js';
import type { GcKind, ProbeReport } from './servers/probe-agent.js';
import { STACKS, parseStackIds, type StackId } from './stacks.js';

const PAYLOAD_BYTES = 200;
const OPEN_CONCURRENCY = 50;
const CHANNEL = 'shared';
/** Longest wait for one message to reach every subscriber (valgrind makes the server ~50× slower). */
const FAN_OUT_TIMEOUT_MS = 120_000;
const VALGRIND_START_TIMEOUT_MS = 180_000;

/** Which channels the probe's subscribers attach to: all one channel, or each its own (S3). */
type Layout = 'shared' | 'own';
const LAYOUTS: readonly Layout[] = ['shared', 'own'];

interface Options {
  subscribers: number;
  layout: Layout;
  messages: number;
  /** Messages published before the measured ones (until the JIT has settled). */
  warmup: number;
  /** ms to hold the connections idle between the open and the delivery phases, measured (0: none). */
  idle: number;
  rate: number;
  callgrind?: string;
  heapProf?: string;
  cpuProf?: string;
  /** Count the server's system calls during the delivery phase (strace -c) into this directory. */
  strace?: string;
}

export interface PhaseCost {
  /** What the phase did: connections opened, or deliveries made. */
  units: number;
  unit: 'open' | 'delivery' | 'idle connection';
  report: ProbeReport;
  /** Instructions the server executed (valgrind), when counted. */
  instructions?: number;
}

export interface StackCost {
  stack: StackId;
  open: PhaseCost;
  /** With `--idle`: the connections held idle for that long (heartbeat passes, timers). */
  idle?: PhaseCost;
  /** Left out with `--layout own` (no channel has every subscriber). */
  deliver?: PhaseCost;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > end) throw new Error(`${what}: not done within ${timeoutMs} ms`);
    await sleep(1);
  }
}

/** Counts instructions in the server between `start` and `stop` (valgrind's callgrind_control). */
class InstructionCounter {
  private dumps = 0;

  constructor(
    private readonly dir: string,
    private readonly pid: number,
  ) {}

  start(): void {
    execFileSync('callgrind_control', ['--instr=on', String(this.pid)], { stdio: 'ignore' });
  }

  /**
   * Dumps the counts since `start` and turns counting off; returns the instructions of the main
   * thread (JavaScript, and the GC work done on it): V8 compiles on other threads, and that
   * varies from run to run, so those are left out.
   */
  stop(): number {
    execFileSync('callgrind_control', ['--dump', String(this.pid)], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['--instr=off', String(this.pid)], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['--zero', String(this.pid)], { stdio: 'ignore' });
    this.dumps++;
    // With --separate-threads=yes each dump is one file per thread: callgrind.out.<pid>.<dump>-<thread>.
    const main = `callgrind.out.${this.pid}.${this.dumps}-01`;
    const totals = /^(?:summary|totals): (\d+)/m.exec(readFileSync(join(this.dir, main), 'latin1'));
    return Number(totals?.[1] ?? NaN);
  }
}

function serverStart(o: Options, stack: StackId): ServerStart {
  const nodeArgs: string[] = [];
  if (o.heapProf)
    nodeArgs.push('--heap-prof', `--heap-prof-dir=${o.heapProf}`, `--heap-prof-name=${stack}.heapprofile`);
  if (o.cpuProf) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`, `--cpu-prof-name=${stack}.cpuprofile`);
  if (!o.callgrind) return { nodeArgs };
  return {
    nodeArgs,
    wrapper: [
      'valgrind',
      '--tool=callgrind',
      '--instr-atstart=no',
      '--separate-threads=yes',
      `--callgrind-out-file=${join(o.callgrind, 'callgrind.out.%p')}`,
      '--trace-children=no',
    ],
    startTimeoutMs: VALGRIND_START_TIMEOUT_MS,
  };
}

/** `strace -c` attached to the server while a phase runs: system calls by kind, written to `file` when stopped. */
async function straced<T>(pid: number, file: string, run: () => Promise<T>): Promise<T> {
  const tracer: ChildProcess = spawn('strace', ['-c', '-f', '-p', String(pid), '-o', file], { stdio: 'ignore' });
  await sleep(1000);
  try {
    return await run();
  } finally {
    const exited = new Promise((r) => tracer.once('exit', r));
    tracer.kill('SIGINT');
    await exited;
  }
}

async function measure<T>(
  server: Deployment,
  counter: InstructionCounter | undefined,
  run: () => Promise<T>,
): Promise<{ value: T; report: ProbeReport; instructions?: number }> {
  await server.first.ask({ type: 'probe', op: 'start' }, 'probe-started');
  counter?.start();
  const value = await run();
  const instructions = counter?.stop();
  const report = await server.first.ask<ProbeReport>({ type: 'probe', op: 'stop' }, 'probe');
  return { value, report, ...(instructions === undefined ? {} : { instructions }) };
}

/** A measured phase as a cost of `units` of `unit`. */
function phaseCost(
  unit: PhaseCost['unit'],
  m: { value: number; report: ProbeReport; instructions?: number },
): PhaseCost {
  return {
    units: m.value,
    unit,
    report: m.report,
    ...(m.instructions === undefined ? {} : { instructions: m.instructions }),
  };
}

/** Publishes `count` messages on the shared channel at `rate` (0: each after the previous one reached everyone). */
async function publishMany(pub: Pub, sink: Sink, subscribers: number, rate: number, count: number): Promise<number> {
  const padding = paddingFor(PAYLOAD_BYTES);
  const start = sink.delivered;
  const interval = rate > 0 ? 1000 / rate : 0;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    pub.publish(CHANNEL, makePayload(PAYLOAD_BYTES, padding));
    const expected = start + (i + 1) * subscribers;
    if (interval === 0) await until(() => sink.delivered >= expected, FAN_OUT_TIMEOUT_MS, 'fan-out');
    else await sleep(Math.max(0, t0 + (i + 1) * interval - performance.now()));
  }
  await until(() => sink.delivered >= start + count * subscribers, FAN_OUT_TIMEOUT_MS, 'fan-out');
  return sink.delivered - start;
}

async function probeStack(stack: StackId, o: Options): Promise<StackCost> {
  const server = await Deployment.start(STACKS[stack], serverStart(o, stack));
  const counter = o.callgrind ? new InstructionCounter(o.callgrind, server.pids[0]!) : undefined;
  const sink = new Sink();
  sink.recording = false;
  let lost = 0;
  const client = STACKS[stack].client({ port: server.ports[0]!, sink, lost: () => lost++ });
  const conns: Conn[] = [];
  let pub: Pub | undefined;
  try {
    const openMany = async (n: number): Promise<number> => {
      const base = conns.length;
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < n) {
          const i = base + next++;
          conns.push(await client.subscribe([o.layout === 'own' ? ownChannel(i) : CHANNEL]));
        }
      };
      await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, n) }, worker));
      return n;
    };
    // The first half opens unmeasured (the server's JIT warms up on it), the second half is measured.
    const warm = Math.floor(o.subscribers / 2);
    await openMany(warm);
    const open = phaseCost('open', await measure(server, counter, () => openMany(o.subscribers - warm)));
    // A connection the server dropped while idle would make the phase's counts wrong: say so.
    if (lost > 0) process.stderr.write(`${stack}: ${lost} connections lost by the end of the open phase\n`);
    const idle =
      o.idle > 0
        ? phaseCost('idle connection', await measure(server, counter, () => sleep(o.idle).then(() => conns.length)))
        : undefined;
    if (o.layout === 'own') return { stack, open, ...(idle ? { idle } : {}) };
    pub = await client.publisher();
    const publisher = pub;
    await publishMany(publisher, sink, conns.length, o.rate, o.warmup);
    const phase = (): Promise<number> => publishMany(publisher, sink, conns.length, o.rate, o.messages);
    const deliver = await measure(
      server,
      counter,
      o.strace ? () => straced(server.pids[0]!, join(o.strace!, `${stack}.strace`), phase) : phase,
    );
    return { stack, open, ...(idle ? { idle } : {}), deliver: phaseCost('delivery', deliver) };
  } finally {
    pub?.close();
    for (const c of conns) c.close();
    await server.stop(o.callgrind ? VALGRIND_START_TIMEOUT_MS : undefined);
  }
}

/** What a collection kept on average (a scavenge's work is copying it): survived in the young generation, promoted. */
function copied(g: GcKind): string {
  const kb = (bytes: number): string => (bytes / g.count / 1024).toFixed(1);
  return `, each kept ${kb(g.survived)} KB + promoted ${kb(g.promoted)} KB`;
}

function gcSummary(r: ProbeReport, per: number): string {
  return (
    Object.entries(r.gc)
      .map(
        ([kind, g]) =>
          `${kind} ${(g.count * per).toFixed(2)} (${(g.ms * per).toFixed(2)} ms, max ${g.maxMs.toFixed(2)}${copied(g)})`,
      )
      .join(', ') || 'none'
  );
}

/** One line per phase: per unit, and GCs per 10,000 units. */
export function describePhase(stack: StackId, p: PhaseCost): string {
  const r = p.report;
  const per = 1 / p.units;
  const parts = [
    `${stack} per ${p.unit} (${p.units}):`,
    ...(p.instructions === undefined
      ? []
      : [`${Math.round(p.instructions * per).toLocaleString('en-US')} instructions`]),
    `heap ${Math.round(r.heapAllocated * per)} B`,
    `external ${Math.round(r.externalAllocated * per)} B`,
    `cpu ${((r.cpuUserUs + r.cpuSystemUs) * per).toFixed(2)} µs (user ${(r.cpuUserUs * per).toFixed(2)})`,
    `GC per 10k: ${gcSummary(r, 10_000 * per)}`,
    `event loop delay p99 ${r.loopDelay.p99} ms, max ${r.loopDelay.max} ms`,
  ];
  return parts.join(' · ');
}

async function main(): Promise<void> {
  const parsed = parseArgs({
    options: {
      stacks: { type: 'string', default: 'bare-ws,encke-ws-json,encke-ws-msgpack' },
      subscribers: { type: 'string', default: '200' },
      messages: { type: 'string', default: '100' },
      warmup: { type: 'string', default: '200' },
      idle: { type: 'string', default: '0' },
      layout: { type: 'string', default: 'shared' },
      rate: { type: 'string', default: '20' },
      callgrind: { type: 'string' },
      'heap-prof': { type: 'string' },
      'cpu-prof': { type: 'string' },
      strace: { type: 'string' },
      json: { type: 'string' },
    },
  });
  const args = parsed.values;
  const stacks = parseStackIds(args.stacks);
  const layout = LAYOUTS.find((known) => known === args.layout);
  if (layout === undefined) throw new Error(`unknown layout ${args.layout}; known: ${LAYOUTS.join(', ')}`);
  const dir = (d: string | undefined): string | undefined => {
    if (d === undefined) return undefined;
    mkdirSync(d, { recursive: true });
    return resolve(d);
  };
  const o: Options = {
    subscribers: Number(args.subscribers),
    layout,
    messages: Number(args.messages),
    warmup: Number(args.warmup),
    idle: Number(args.idle),
    rate: Number(args.rate),
    ...(args.callgrind ? { callgrind: dir(args.callgrind)! } : {}),
    ...(args['heap-prof'] ? { heapProf: dir(args['heap-prof'])! } : {}),
    ...(args['cpu-prof'] ? { cpuProf: dir(args['cpu-prof'])! } : {}),
    ...(args.strace ? { strace: dir(args.strace)! } : {}),
  };
  const results: StackCost[] = [];
  for (const stack of stacks) {
    const r = await probeStack(stack, o);
    results.push(r);
    for (const phase of [r.open, r.idle, r.deliver])
      if (phase) process.stdout.write(`${describePhase(stack, phase)}\n`);
  }
  if (args.json) writeFileSync(args.json, JSON.stringify({ options: o, results }, null, 1));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
