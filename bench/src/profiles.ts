/**
 * The scenarios and how long each is run. `full` is the reported run (≥3 runs, medians);
 * `quick` is the development loop (one run, shorter steps, fewer stacks): about 80 s today, about
 * 105 s once comet is served (its three cases join), under the 2 minutes it is allowed. S5, S5b and
 * S6 take about 85 s more in the quick profile, and S8 (delta, six cases) about 80 s, so they join
 * the quick loop only when named (`npm run bench:quick -- --scenarios s5,s5b,s6`, `-- --scenarios s8`).
 */
import { deltaScenario } from './delta-bench.js';
import type { Job, RampParams } from './jobs.js';
import type { StackId } from './stacks.js';

export type ScenarioId = 's1' | 's2' | 's3' | 's4' | 's5' | 's5b' | 's6' | 's7' | 's8';

export interface Scenario {
  id: ScenarioId;
  title: string;
  stacks: StackId[];
  /** The stack `× ref` ratios are taken to. @default 'bare-ws' */
  reference?: StackId;
  /** Per-stack references instead (S8: each delta stack beside the same transport without delta). */
  referenceOf?: Partial<Record<StackId, StackId>>;
  /** Said under the scenario's title in the report (how it is run, what its numbers mean). */
  note?: string;
  /** Run only when named with `--scenarios` (the quick profile's long scenarios). */
  optional?: boolean;
  /** The generator's job, less the stack, its nodes' ports and its processes. */
  job: Omit<Job, 'stack' | 'ports' | 'serverPids'>;
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
const CLUSTER_STACKS: StackId[] = ['encke-ws-json', 'encke-redis-1', 'encke-cluster-2'];
/** S7 (issue 19): the stacks whose tail is compared with bare ws, and Socket.IO as the peer. */
const TAIL_STACKS: StackId[] = ['bare-ws', 'encke-ws-json', 'encke-ws-msgpack', 'encke-comet-stream', 'socketio-ws'];
/** S7 measures this long at 20k deliveries/s: several times every periodic job of a server (encke's heartbeat pass every 5 s). */
const TAIL_SECONDS = 30;
const TAIL_SECONDS_QUICK = 12;
/** The other comet techniques (issue 15), measured in S3 and S4 beside long-polling and streaming. */
const TECHNIQUE_STACKS: StackId[] = ['encke-sse', 'encke-htmlfile', 'encke-multipart', 'encke-jsonp', 'encke-sse-api'];
/** S5b: publishing connections (S5 has one). */
const CLUSTER_PUBLISHERS = 10;
const S4_NOTE =
  'Each message goes to all 1,000 subscribers at once, so its latency percentiles are the time to write 1,000 sockets one after another. ' +
  'bare ws and encke over WebSocket receive the same burst, for reference: what that costs on this machine without HTTP.';
/** S6: 100 members, each updating every 2 s: 50 updates/s, each delivered to the 100 members. */
const TYPING_MEMBERS = 100;
const TYPING_UPDATE_INTERVAL_S = 2;
/** S6 payload: just the send-time marker (`~BM` + 13 digits + `~`) inside `{typing, at}`. */
const STAMP_BYTES = 17;
const PAYLOAD_BYTES = 200;
const CONCURRENCY = 500;

function ramp(quick: boolean): RampParams {
  return quick
    ? { start: 50_000, growth: 2, precision: 1.25, stepMs: 1000, maxSteps: 7 }
    : { start: 40_000, growth: 1.6, precision: 1.12, stepMs: 2000, maxSteps: 16 };
}

/** 1,000 subscribers on one channel, 200-byte messages (S1, S4, S5). */
const FAN_OUT = {
  connections: 1000,
  concurrency: CONCURRENCY,
  layout: 'shared',
  payloadBytes: PAYLOAD_BYTES,
  ownPerShared: 0,
} as const;

/** S1's and S5's numbers: latency at a fixed 20,000 deliveries/s, then the ramp. */
function fanOutJob(quick: boolean): Scenario['job'] {
  return { ...FAN_OUT, fixed: { rate: 20_000, seconds: quick ? 2 : 6 }, ramp: ramp(quick) };
}

function scenarios(quick: boolean): Scenario[] {
  return [
    {
      id: 's1',
      title: 'S1 fan-out: 1,000 subscribers on one channel, 200-byte messages',
      stacks: quick
        ? ['bare-ws', 'encke-ws-json', 'encke-ws-msgpack', 'encke-comet']
        : [...WS_STACKS, ...POLLING_STACKS],
      job: fanOutJob(quick),
      timeoutMs: 240_000,
    },
    {
      id: 's7',
      title: `S7 tail: S1's fan-out at a fixed 20,000 deliveries/s for ${quick ? TAIL_SECONDS_QUICK : TAIL_SECONDS} s, every delivery timed`,
      stacks: quick ? ['bare-ws', 'encke-ws-json', 'encke-ws-msgpack', 'encke-comet-stream'] : TAIL_STACKS,
      note: TAIL_NOTE,
      optional: quick,
      job: {
        ...FAN_OUT,
        fixed: { rate: 20_000, seconds: quick ? TAIL_SECONDS_QUICK : TAIL_SECONDS, warmupSeconds: 2 },
      },
      timeoutMs: 120_000,
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
      stacks: quick
        ? ['bare-ws', 'encke-ws-json', 'encke-comet']
        : [...WS_STACKS, 'encke-comet', 'encke-comet-stream', ...TECHNIQUE_STACKS, 'socketio-polling'],
      job: {
        connections: 10_000,
        concurrency: CONCURRENCY,
        layout: 'own',
        payloadBytes: PAYLOAD_BYTES,
        ownPerShared: 0,
        hold: true,
      },
      timeoutMs: 180_000,
    },
    {
      id: 's4',
      title: 'S4: 1,000 long-polling or streaming subscribers, 1 message/s each',
      stacks: [
        'bare-ws',
        'encke-ws-json',
        'encke-ws-msgpack',
        ...(quick
          ? (['encke-comet', 'encke-comet-stream', 'socketio-polling'] as StackId[])
          : [...POLLING_STACKS, ...TECHNIQUE_STACKS]),
      ],
      note: S4_NOTE,
      // One message a second: the first five warm up (JIT) before measuring, as S1's first half
      // second does at 20 a second; the window starts between two messages so that it holds whole ones.
      job: { ...FAN_OUT, fixed: { rate: 1000, seconds: quick ? 3 : 10, warmupSeconds: 5.5 } },
      timeoutMs: 120_000,
    },
    {
      id: 's5',
      title: 'S5 cluster: 1,000 subscribers on one channel over the nodes, 200-byte messages',
      stacks: CLUSTER_STACKS,
      reference: 'encke-ws-json',
      optional: quick,
      note: CLUSTER_NOTE,
      job: { ...fanOutJob(quick), countMissing: true },
      timeoutMs: 240_000,
    },
    {
      id: 's5b',
      title: `S5b cluster, ${CLUSTER_PUBLISHERS} publishers: as S5, the messages published by ${CLUSTER_PUBLISHERS} connections in turn`,
      stacks: CLUSTER_STACKS,
      reference: 'encke-ws-json',
      optional: quick,
      note: CLUSTER_PUBLISHERS_NOTE,
      job: { ...FAN_OUT, publishers: CLUSTER_PUBLISHERS, ramp: ramp(quick), countMissing: true },
      timeoutMs: 240_000,
    },
    {
      id: 's6',
      title: `S6 presence typing: ${TYPING_MEMBERS} members on one channel, each updating {typing} every ${TYPING_UPDATE_INTERVAL_S} s`,
      stacks: ['encke-ws-json', 'encke-ws-msgpack', ...(quick ? [] : (['encke-cluster-2'] as StackId[]))],
      optional: quick,
      note: TYPING_NOTE,
      job: {
        connections: TYPING_MEMBERS,
        concurrency: TYPING_MEMBERS,
        layout: 'presence',
        payloadBytes: STAMP_BYTES,
        ownPerShared: 0,
        fixed: { rate: (TYPING_MEMBERS * TYPING_MEMBERS) / TYPING_UPDATE_INTERVAL_S, seconds: quick ? 5 : 20 },
      },
      timeoutMs: 120_000,
    },
    deltaScenario(quick, ramp(quick)),
  ];
}

const CLUSTER_NOTE =
  'encke WS JSON is one node with the memory engine; encke 1 node + Redis and 2 nodes + Redis run the Redis engine on a redis-server the harness starts. ' +
  'Subscribers alternate between the nodes, the publisher is on the first, so with two nodes half of the deliveries cross Redis pub/sub to the other node. ' +
  'When pinned, all server processes of a stack (its nodes and redis-server) share the server core and the generator has the other: the second node adds no CPU, ' +
  'so the ratios are the cost of going through Redis and of a second node on the same one-core budget, not scale-out.';

const CLUSTER_PUBLISHERS_NOTE =
  `Processes, pinning and spread as in S5, the publishers all on the first node. A connection's publishes overlap in the engine up to a bound (their ACKs in order); ` +
  `${CLUSTER_PUBLISHERS} publishers spread the same rate over ${CLUSTER_PUBLISHERS} such pipelines. S5 and S5b side by side show whether one connection's pipeline is the limit.`;

const TAIL_NOTE =
  "The slow message, not the average (issue 19): 20 messages/s to 1,000 subscribers, each stamped at publish and timed at every subscriber's read, " +
  "for long enough to include every periodic job of a server several times (S1's 6 s window may miss them). " +
  "`× ref` is the per-run ratio to bare ws. Generator stall: how late the generator's 1 ms publish timer fired (its own event loop busy reading), " +
  'which delays the reads of every stack alike.';

const TYPING_NOTE =
  'Each member is its own connection (Ably protocol over WebSocket, clientId member-<i>), attached with presence subscribe and entered with {typing:false}; ' +
  'the members then send PRESENCE UPDATE in turn, toggling typing, with the send time in the data ({typing, at}). ' +
  "Latency is from the updater's send to each member's receipt (the updater included). encke 2 nodes + Redis: members alternate between the nodes (full run only).";

export function profile(name: 'quick' | 'full', runs?: number): Profile {
  const quick = name === 'quick';
  return { name, runs: runs ?? (quick ? 1 : 3), scenarios: scenarios(quick) };
}
