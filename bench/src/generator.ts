/**
 * The load generator process: opens a stack's subscribers and its publisher, runs the job (fixed
 * rate, ramp, or hold idle) and reports over IPC. Pinned to its own core by the runner.
 */
import { roundRobin, type BenchClient, type ClientContext, type Conn, type Pub } from './clients/client.js';
import { CpuMeter, type CpuUse } from './cpu.js';
import { Documents, STAMP_WIDTH } from './documents.js';
import type { GeneratorMessage, Job, JobResult, Latency, RampParams, RunnerMessage, StepResult } from './jobs.js';
import { Load, Mix, ownChannel } from './load.js';
import { Sink, makePayload } from './payload.js';
import { STACKS } from './stacks.js';

const SETTLE_FRACTION = 0.2;
/** A step is sustained when the publisher kept this share of the asked-for rate, */
const MIN_OFFERED_SHARE = 0.9;
/** the backlog (published, not yet delivered) grew during the measured window by at most this share of what was offered in it, */
const MAX_BACKLOG_GROWTH = 0.03;
/** and what is still missing at the end is at most this much time's worth of traffic (or two messages). */
const MAX_BACKLOG_SECONDS = 0.25;
const DRAIN_TIMEOUT_MS = 3000;
/** At the end of a case, the wait for every delivery still on its way (after the ramp's overloads). */
const FINAL_DRAIN_TIMEOUT_MS = 20_000;
/** Other processes using this much CPU (cores) make a failed step worth trying again. */
const BUSY_MACHINE = 0.25;
const MAX_TRIES = 3;
/** A best step with the generator this busy measured the generator, not the server: the report says so. */
const GENERATOR_BOUND = 0.95;
const MAX_PUBLISHER_BACKLOG = 1024 * 1024;
/** The channel of the `shared` layout (load.ts' Mix publishes to it by this name). */
const SHARED_CHANNEL = 'shared';
/** S6: the channel the members are present on. */
const PRESENCE_CHANNEL = 'typing';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function send(msg: GeneratorMessage): void {
  process.send!(msg);
}

function latencyOf(sink: Sink): Latency {
  const h = sink.latency;
  const ms = (us: number): number => Math.round(us / 10) / 100;
  return {
    p50: ms(h.quantile(0.5)),
    p99: ms(h.quantile(0.99)),
    p999: ms(h.quantile(0.999)),
    max: ms(h.max),
    samples: h.total,
  };
}

function channelsFor(job: Job, i: number): string[] {
  switch (job.layout) {
    case 'shared':
      return [SHARED_CHANNEL];
    case 'presence':
      return [PRESENCE_CHANNEL];
    case 'own':
      return [ownChannel(i)];
    case 'own+shared':
      return [ownChannel(i), 'shared'];
  }
}

/** One client per node of the stack: connection i opens on node i mod n. */
function clientsFor(job: Job, ctx: Omit<ClientContext, 'port'>): BenchClient[] {
  return job.ports.map((port) => STACKS[job.stack].client({ ...ctx, port }));
}

/** Opens a presence member for connection `i`. */
function member(client: BenchClient, job: Job, i: number): Promise<Pub> {
  if (!client.member) throw new Error(`${job.stack} has no presence client`);
  return client.member(PRESENCE_CHANNEL, `member-${i}`);
}

interface Opened {
  conns: Conn[];
  /** The presence layout's members (also in `conns`). */
  members: Pub[];
  ms: number;
  cpu: CpuUse;
}

async function openAll(clients: BenchClient[], job: Job, from = 0, to = job.connections): Promise<Opened> {
  const conns: Conn[] = [];
  const members: Pub[] = [];
  const started = performance.now();
  const cpu = new CpuMeter(job.serverPids);
  let next = from;
  const worker = async (): Promise<void> => {
    while (next < to) {
      const i = next++;
      const client = clients[i % clients.length]!;
      if (job.layout !== 'presence') conns.push(await client.subscribe(channelsFor(job, i)));
      else {
        const m = await member(client, job, i);
        members.push(m);
        conns.push(m);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(job.concurrency, to - from) }, worker));
  return { conns, members, ms: performance.now() - started, cpu: cpu.read() };
}

function finished(): Promise<void> {
  return new Promise<void>((resolve) => {
    const on = (m: RunnerMessage): void => {
      if (m.type !== 'finish') return;
      process.off('message', on);
      resolve();
    };
    process.on('message', on);
  });
}

/**
 * S3: the first half is opened and held while the runner reads the server's memory (`opened` with
 * `half`), then the second half: what the second half adds is the cost of one more connection,
 * without what a server grows once (its young generation, compiled code). One open as a whole.
 */
async function openHeld(clients: BenchClient[], job: Job): Promise<Opened> {
  const half = Math.floor(job.connections / 2);
  const first = await openAll(clients, job, 0, half);
  send({ type: 'opened', connections: half, ms: first.ms, half: true });
  await finished();
  const second = await openAll(clients, job, half);
  const ms = first.ms + second.ms;
  const weigh = (a: number | null, b: number | null): number | null =>
    a === null || b === null ? null : Math.round(((a * first.ms + b * second.ms) / ms) * 100) / 100;
  const cpu = {
    generatorCpu: weigh(first.cpu.generatorCpu, second.cpu.generatorCpu)!,
    serverCpu: weigh(first.cpu.serverCpu, second.cpu.serverCpu),
    otherCpu: weigh(first.cpu.otherCpu, second.cpu.otherCpu),
  };
  return { conns: [...first.conns, ...second.conns], members: [...first.members, ...second.members], ms, cpu };
}

/** The load's publisher: the job's publishers on the first node in turn, or the members themselves. */
async function publisherFor(clients: BenchClient[], job: Job, members: Pub[]): Promise<Pub> {
  if (job.layout === 'presence') return roundRobin(members);
  const pubs: Pub[] = [];
  for (let i = 0; i < (job.publishers ?? 1); i++) pubs.push(await clients[0]!.publisher());
  return pubs.length === 1 ? pubs[0]! : roundRobin(pubs);
}

class Runner {
  lost = 0;
  readonly sink = new Sink();
  /** S8's documents: published, decoded and checked by the clients. */
  readonly documents: Documents | undefined;

  constructor(private readonly job: Job) {
    if (job.documents) this.documents = new Documents(this.sink);
  }

  /** The context of the clients, less the port (one client per node). */
  context(): Omit<ClientContext, 'port'> {
    return { sink: this.sink, lost: () => this.lost++, ...(this.documents && { documents: this.documents }) };
  }

  /**
   * S8: one document to every subscriber before measuring, so that each delta chain has its base
   * and the fixed phase's bytes are those of a steady stream (the first message of a chain is whole).
   */
  async prime(pub: Pub, subscribers: number): Promise<void> {
    const d0 = this.sink.delivered;
    pub.publish(SHARED_CHANNEL, makePayload(STAMP_WIDTH, ''));
    const until = performance.now() + DRAIN_TIMEOUT_MS;
    while (this.sink.delivered - d0 < subscribers) {
      if (performance.now() > until)
        throw new Error(`the first document reached ${this.sink.delivered - d0} of ${subscribers} subscribers`);
      await sleep(20);
    }
  }

  async waitDrained(load: Load, base: number, offeredBase: number, timeoutMs = DRAIN_TIMEOUT_MS): Promise<boolean> {
    const until = performance.now() + timeoutMs;
    while (performance.now() < until) {
      if (this.sink.delivered - base >= load.offered - offeredBase) return true;
      await sleep(20);
    }
    return false;
  }

  async fixed(
    load: Load,
    rate: number,
    seconds: number,
    warmupSeconds = 0.5,
  ): Promise<NonNullable<JobResult['fixed']>> {
    const { sink } = this;
    const dStart = sink.delivered;
    const oStart = load.offered;
    load.setRate(rate);
    await sleep(warmupSeconds * 1000);
    sink.latency.reset();
    load.stalls.reset();
    const d0 = sink.delivered;
    const o0 = load.offered;
    const cpu = new CpuMeter(this.job.serverPids);
    await sleep(seconds * 1000);
    const stall = {
      p99: Math.round(load.stalls.quantile(0.99) / 10) / 100,
      max: Math.round(load.stalls.max / 10) / 100,
    };
    const measured = {
      offered: load.offered - o0,
      delivered: sink.delivered - d0,
      latency: latencyOf(sink),
      generatorStall: stall,
      ...cpu.read(),
    };
    load.setRate(0);
    await this.waitDrained(load, dStart, oStart);
    return { ...measured, missing: load.offered - oStart - (sink.delivered - dStart) };
  }

  async step(load: Load, target: number, stepMs: number): Promise<StepResult> {
    const { sink } = this;
    const d0 = sink.delivered;
    const o0 = load.offered;
    const lost0 = this.lost;
    load.setRate(target);
    await sleep(stepMs * SETTLE_FRACTION);
    sink.latency.reset();
    const dw = sink.delivered;
    const ow = load.offered;
    const backlogBefore = ow - o0 - (dw - d0);
    const tw = performance.now();
    const cpu = new CpuMeter(this.job.serverPids);
    await sleep(stepMs * (1 - SETTLE_FRACTION));
    const seconds = (performance.now() - tw) / 1000;
    const offered = (load.offered - ow) / seconds;
    const delivered = (sink.delivered - dw) / seconds;
    const backlog = load.offered - o0 - (sink.delivered - d0);
    const growth = backlog - backlogBefore;
    const slack = 2 * load.largestMessage;
    const usage = cpu.read();
    const latency = latencyOf(sink);
    load.setRate(0);
    const ok =
      this.lost === lost0 &&
      offered >= MIN_OFFERED_SHARE * target &&
      growth <= Math.max(MAX_BACKLOG_GROWTH * (load.offered - ow), slack) &&
      backlog <= Math.max(offered * MAX_BACKLOG_SECONDS, slack) &&
      load.publisherBacklog < MAX_PUBLISHER_BACKLOG;
    const drained = await this.waitDrained(load, d0, o0);
    return {
      target: Math.round(target),
      offered: Math.round(offered),
      delivered: Math.round(delivered),
      backlog,
      ok,
      drained,
      latency,
      ...usage,
    };
  }

  async ramp(load: Load, p: RampParams): Promise<NonNullable<JobResult['ramp']>> {
    const steps: StepResult[] = [];
    let best: StepResult | undefined;
    let lowestFailed: number | undefined;
    let rate = p.start;
    let note = 'step budget used up';
    while (steps.length < p.maxSteps) {
      let s = await this.step(load, rate, p.stepMs);
      steps.push(s);
      // A shared machine has hiccups: a failed step counts only if it fails again, and a step
      // failed while other processes were busy is tried up to MAX_TRIES times.
      for (let tries = 1; !s.ok && s.drained && this.lost === 0 && steps.length < p.maxSteps; tries++) {
        if (tries >= (s.otherCpu !== null && s.otherCpu > BUSY_MACHINE ? MAX_TRIES : 2)) break;
        s = await this.step(load, rate, p.stepMs);
        steps.push(s);
      }
      if (s.ok && (!best || s.delivered > best.delivered)) best = s;
      if (!s.ok) lowestFailed = Math.min(lowestFailed ?? Infinity, s.target);
      if (this.lost > 0) {
        note = `connections lost at ${s.target}/s`;
        break;
      }
      if (!s.drained) {
        note = `backlog did not drain after ${s.target}/s`;
        break;
      }
      if (lowestFailed === undefined) rate *= p.growth;
      else if (!best) rate = rate / p.growth;
      else if (lowestFailed / best.target <= p.precision) {
        note = 'converged';
        break;
      } else rate = Math.sqrt(best.target * lowestFailed);
    }
    // A generator at its limit when the best step was measured: the server sustains at least that
    // (the generator may be busy at one rate and not at a higher one, once the server batches).
    if (best && best.generatorCpu >= GENERATOR_BOUND)
      note = `generator-bound at ${best.delivered}/s (${note}): the server sustains at least this`;
    return { max: best?.delivered ?? 0, steps, note };
  }
}

async function run(job: Job): Promise<JobResult> {
  const runner = new Runner(job);
  const clients = clientsFor(job, runner.context());
  const { conns, members, ms, cpu } = job.hold ? await openHeld(clients, job) : await openAll(clients, job);
  const result: JobResult = {
    open: { connections: conns.length, ms: Math.round(ms), perSecond: Math.round((conns.length / ms) * 1000), ...cpu },
    lost: 0,
  };
  if (job.hold) {
    send({ type: 'opened', connections: conns.length, ms });
    await finished();
  }
  let pub: Pub | undefined;
  if (job.fixed || job.ramp) {
    pub = await publisherFor(clients, job, members);
    // A presence update reaches every member, like a message on the shared channel.
    const shared = job.layout === 'own' ? 0 : job.connections;
    const own = job.layout === 'shared' || job.layout === 'presence' ? 0 : job.connections;
    const load = new Load(pub, new Mix(shared, own, job.ownPerShared), job.payloadBytes);
    const { documents } = runner;
    if (documents) await runner.prime(pub, conns.length);
    const beforeFixed = documents?.snapshot();
    if (job.fixed) result.fixed = await runner.fixed(load, job.fixed.rate, job.fixed.seconds, job.fixed.warmupSeconds);
    const afterFixed = documents?.snapshot();
    if (job.ramp) result.ramp = await runner.ramp(load, job.ramp);
    load.stop();
    if (documents) result.documents = documents.result(beforeFixed!, afterFixed!);
    if (job.countMissing) {
      await runner.waitDrained(load, 0, 0, FINAL_DRAIN_TIMEOUT_MS);
      result.missing = load.offered - runner.sink.delivered;
    }
  }
  // Read before closing: a connection closed here reports itself lost.
  result.lost = runner.lost;
  pub?.close();
  for (const c of conns) c.close();
  return result;
}

process.once('message', (m: RunnerMessage) => {
  if (m.type !== 'job') return;
  run(m.job)
    .then((result) => send({ type: 'result', result }))
    .catch((err: unknown) => send({ type: 'error', message: err instanceof Error ? err.message : String(err) }))
    .finally(() => {
      process.disconnect();
      setTimeout(() => process.exit(0), 200).unref();
    });
});
