/**
 * The scenarios and how long each is run. `full` is the reported run (≥3 runs, medians);
 * `quick` is the development loop (one run, shorter steps, fewer stacks): about 80 s today, about
 * 105 s once comet is served (its three cases join), under the 2 minutes it is allowed.
 */
import type { Job, RampParams } from './jobs.js';
import type { StackId } from './stacks.js';

export type ScenarioId = 's1' | 's2' | 's3' | 's4';

export interface Scenario {
  id: ScenarioId;
  title: string;
  stacks: StackId[];
  /** The generator's job, less the stack, port and server pid. */
  job: Omit<Job, 'stack' | 'port' | 'serverPid'>;
  /** Upper bound for one case (open + measure), ms. */
  timeoutMs: number;
}

export interface Profile {
  name: 'quick' | 'full';
  runs: number;
  scenarios: Scenario[];
}

const WS_STACKS: StackId[] = ['bare-ws', 'encke-ws-json', 'encke-ws-msgpack', 'socketio-ws', 'faye-ws'];
const POLLING_STACKS: StackId[] = ['encke-comet', 'encke-comet-stream', 'socketio-polling', 'faye-longpoll'];
const PAYLOAD_BYTES = 200;
const CONCURRENCY = 500;

function ramp(quick: boolean): RampParams {
  return quick ? { start: 50_000, growth: 2, precision: 1.25, stepMs: 1000, maxSteps: 7 } : { start: 40_000, growth: 1.6, precision: 1.12, stepMs: 2000, maxSteps: 16 };
}

function scenarios(quick: boolean): Scenario[] {
  return [
    {
      id: 's1',
      title: 'S1 fan-out: 1,000 subscribers on one channel, 200-byte messages',
      stacks: quick ? ['bare-ws', 'encke-ws-json', 'encke-ws-msgpack', 'encke-comet'] : [...WS_STACKS, ...POLLING_STACKS],
      job: {
        connections: 1000,
        concurrency: CONCURRENCY,
        layout: 'shared',
        payloadBytes: PAYLOAD_BYTES,
        ownPerShared: 0,
        fixed: { rate: 20_000, seconds: quick ? 2 : 6 },
        ramp: ramp(quick),
      },
      timeoutMs: 240_000,
    },
    {
      id: 's2',
      title: 'S2: 2,000 connections, each on its own channel plus one shared channel',
      stacks: quick ? ['bare-ws', 'encke-ws-json', 'encke-ws-msgpack'] : WS_STACKS,
      job: {
        connections: 2000,
        concurrency: CONCURRENCY,
        layout: 'own+shared',
        payloadBytes: PAYLOAD_BYTES,
        ownPerShared: 200,
        ramp: ramp(quick),
      },
      timeoutMs: 240_000,
    },
    {
      id: 's3',
      title: 'S3: 10,000 idle connections, each subscribed to its own channel',
      stacks: quick ? ['bare-ws', 'encke-ws-json', 'encke-comet'] : [...WS_STACKS, 'encke-comet', 'encke-comet-stream', 'socketio-polling'],
      job: { connections: 10_000, concurrency: CONCURRENCY, layout: 'own', payloadBytes: PAYLOAD_BYTES, ownPerShared: 0, hold: true },
      timeoutMs: 180_000,
    },
    {
      id: 's4',
      title: 'S4: 1,000 long-polling or streaming subscribers, 1 message/s each',
      stacks: quick ? ['encke-comet', 'encke-comet-stream', 'socketio-polling'] : POLLING_STACKS,
      job: { connections: 1000, concurrency: CONCURRENCY, layout: 'shared', payloadBytes: PAYLOAD_BYTES, ownPerShared: 0, fixed: { rate: 1000, seconds: quick ? 3 : 10 } },
      timeoutMs: 120_000,
    },
  ];
}

export function profile(name: 'quick' | 'full', runs?: number): Profile {
  const quick = name === 'quick';
  return { name, runs: runs ?? (quick ? 1 : 3), scenarios: scenarios(quick) };
}
