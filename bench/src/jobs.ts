/** What the runner asks of a generator process, and what it answers (over IPC). */
import type { DocumentsResult } from './documents.js';
import type { StackId } from './stacks.js';

export interface RampParams {
  /** First rate tried, deliveries/s. */
  start: number;
  /** Factor between steps until a step fails; then the interval is bisected. */
  growth: number;
  /** Stop bisecting once failing/sustained rates are within this factor. */
  precision: number;
  stepMs: number;
  maxSteps: number;
}

/**
 * How the connections use channels: `shared` one channel for all, `own` one each, `own+shared`
 * both; `presence`: every connection a presence member of one channel (entered, subscribed to
 * presence), and the load is the members updating their data in turn (S6).
 */
export type ChannelLayout = 'shared' | 'own' | 'own+shared' | 'presence';

export interface Job {
  stack: StackId;
  /** The stack's nodes: connection i opens on node i mod n, the publisher on the first. */
  ports: number[];
  /** Every server-side process of the stack (nodes, redis-server), for CPU use. */
  serverPids: number[];
  connections: number;
  /** Connections being opened at once. */
  concurrency: number;
  layout: ChannelLayout;
  payloadBytes: number;
  /** Publishing connections (on the first node), taking the messages in turn. @default 1 */
  publishers?: number;
  /** Messages to own channels published per message on the shared channel (S2's mix). */
  ownPerShared: number;
  /** A fixed rate for `seconds`, measured after `warmupSeconds` at that rate (default 0.5). */
  fixed?: { rate: number; seconds: number; warmupSeconds?: number };
  ramp?: RampParams;
  /**
   * After the last step, wait (at most 20 s) for everything still on its way and report what never
   * arrived (`JobResult.missing`): S5's "nothing lost", also through the ramp's overloaded steps.
   */
  countMissing?: boolean;
  /** S3: open half, report `opened` (`half`) and wait for `finish`; open the rest, report `opened` and hold until `finish`. */
  hold?: boolean;
  /**
   * S8: publish 1 KB JSON documents (documents.ts) instead of padded payloads; every subscriber
   * decodes and checks each one and counts its socket bytes (`JobResult.documents`).
   */
  documents?: boolean;
}

export interface Latency {
  p50: number;
  p99: number;
  p999: number;
  /** The slowest delivery (ms). */
  max?: number;
  samples: number;
}

/**
 * How late the generator's 1 ms publish timer fired during a fixed-rate phase (ms): the time the
 * generator's own event loop was busy (reading deliveries). A delivery read during such a stall is
 * stamped late by up to that much, for every stack alike.
 */
export interface GeneratorStall {
  p99: number;
  max: number;
}

export interface StepResult {
  /** Asked-for rate, deliveries/s. */
  target: number;
  offered: number;
  delivered: number;
  /** Deliveries still missing at the end of the step. */
  backlog: number;
  ok: boolean;
  drained: boolean;
  latency: Latency;
  /** CPU use of the generator and the server during the step (1 = one core). */
  generatorCpu: number;
  serverCpu: number | null;
  /** CPU used by other processes on the machine meanwhile (1 = one core). */
  otherCpu: number | null;
}

export interface JobResult {
  open: {
    connections: number;
    ms: number;
    perSecond: number;
    generatorCpu: number;
    serverCpu: number | null;
    otherCpu: number | null;
  };
  fixed?: {
    offered: number;
    delivered: number;
    /** Offered minus delivered over the whole fixed phase once drained: 0 when nothing was lost (negative: duplicates). */
    missing: number;
    latency: Latency;
    generatorStall?: GeneratorStall;
    generatorCpu: number;
    serverCpu: number | null;
    otherCpu: number | null;
  };
  ramp?: { max: number; steps: StepResult[]; note: string };
  /** With `countMissing`: deliveries offered in the whole case and never received (0: nothing lost). */
  missing?: number;
  lost: number;
  /** With `documents`: bytes per delivery and delta share over the fixed-rate phase, checks over the case. */
  documents?: DocumentsResult;
}

export type GeneratorMessage =
  | { type: 'opened'; connections: number; ms: number; half?: boolean }
  | { type: 'result'; result: JobResult }
  | { type: 'error'; message: string };

export type RunnerMessage = { type: 'job'; job: Job } | { type: 'finish' };
