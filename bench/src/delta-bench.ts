/**
 * S8 (issue 14): delta compression beside whole messages, in the same run. Subscribers of one channel
 * of 1 KB JSON documents (documents.ts), each ~5% different from the one before, attached with
 * `params: {delta: 'vcdiff'}` or without, over WebSocket JSON, WebSocket msgpack and comet
 * streaming. Each delta stack's `× ref` is taken to the same transport without delta.
 */
import { STAMP_WIDTH } from './documents.js';
import type { RampParams } from './jobs.js';
import type { CaseResult, Metric } from './metrics.js';
import type { Scenario } from './profiles.js';
import type { StackId } from './stacks.js';

/** Each delta stack beside the same transport without delta (the twins are their own reference). */
const PAIRS: [StackId, StackId][] = [
  ['encke-ws-json', 'encke-ws-json-delta'],
  ['encke-ws-msgpack', 'encke-ws-msgpack-delta'],
  ['encke-comet-stream', 'encke-comet-stream-delta'],
];
const SUBSCRIBERS = 1000;
const SUBSCRIBERS_QUICK = 200;
/** The fixed moderate rate, as in S1: 20 documents a second to every subscriber. */
const MESSAGES_PER_SECOND = 20;
const CONCURRENCY = 500;

/** S8's stacks with delta, and all of them (for the targets). */
export const DELTA_STACKS: readonly StackId[] = PAIRS.map(([, delta]) => delta);
export const S8_STACKS: readonly StackId[] = PAIRS.flat();
/** A delta stack must receive at least this share of its deliveries as deltas (all but whole fallbacks). */
export const MIN_DELTA_SHARE = 0.9;

const NOTE =
  'Every subscriber turns each message back into its document (whole messages: the JSON string; deltas: VCDIFF applied to the previous document with @ably/vcdiff-decoder, ' +
  'as the ably-js plugin does) and compares it byte for byte with the published one; sequence numbers must follow each other. ' +
  'Identical deltas against byte-equal bases are decoded once in the generator and the result reused (decoding is a pure function), so the decoder does not become the limit. ' +
  'Bytes per delivery: socket bytes read by the subscribers over the fixed-rate phase (WebSocket frames or HTTP chunks, protocol envelopes, the delta or the document) ' +
  'divided by the documents delivered, after one document primed every chain. `× ref`: each delta stack against the same transport without delta, in the same run. ' +
  "Changed: the share of a document's bytes that differ from the previous one (measured). Mismatches must be 0.";

export function deltaScenario(quick: boolean, ramp: RampParams): Scenario {
  const subscribers = quick ? SUBSCRIBERS_QUICK : SUBSCRIBERS;
  const referenceOf: Partial<Record<StackId, StackId>> = {};
  for (const [whole, delta] of PAIRS) {
    referenceOf[whole] = whole;
    referenceOf[delta] = whole;
  }
  return {
    id: 's8',
    title: `S8 delta: ${subscribers.toLocaleString('en-US')} subscribers on a channel of 1 KB JSON documents, each ~5% different from the last; vcdiff deltas beside whole messages`,
    stacks: PAIRS.flat(),
    referenceOf,
    // Six cases take about 80 s in the quick profile: like S5, S5b and S6 they join it when named.
    optional: quick,
    note: NOTE,
    job: {
      connections: subscribers,
      concurrency: CONCURRENCY,
      layout: 'shared',
      // The load's payload is only the send-time stamp: the publisher carries it inside the next document.
      payloadBytes: STAMP_WIDTH,
      ownPerShared: 0,
      documents: true,
      fixed: { rate: MESSAGES_PER_SECOND * subscribers, seconds: quick ? 2 : 6 },
      ramp,
    },
    timeoutMs: 240_000,
  };
}

const AT = ` @${MESSAGES_PER_SECOND} msg/s`;
const docs = (c: CaseResult): NonNullable<NonNullable<CaseResult['result']>['documents']> | undefined =>
  c.result?.documents;

export const DELTA_METRICS: Metric[] = [
  {
    scenario: 's8',
    key: 'bytes',
    label: `bytes on the wire per delivery${AT}`,
    unit: 'B',
    ratio: true,
    digits: 0,
    get: (c) => docs(c)?.bytesPerDelivery,
  },
  {
    scenario: 's8',
    key: 'max',
    label: 'max sustained deliveries/s',
    unit: '/s',
    ratio: true,
    digits: 0,
    get: (c) => c.result?.ramp?.max,
  },
  {
    scenario: 's8',
    key: 'p50',
    label: `p50${AT}`,
    unit: 'ms',
    ratio: false,
    digits: 2,
    get: (c) => c.result?.fixed?.latency.p50,
  },
  {
    scenario: 's8',
    key: 'p99',
    label: `p99${AT}`,
    unit: 'ms',
    ratio: false,
    digits: 2,
    get: (c) => c.result?.fixed?.latency.p99,
  },
  {
    scenario: 's8',
    key: 'cpu',
    label: `server CPU${AT}`,
    unit: 'cores',
    ratio: false,
    digits: 2,
    get: (c) => c.result?.fixed?.serverCpu ?? undefined,
  },
  {
    scenario: 's8',
    key: 'deltas',
    label: 'delivered as deltas',
    unit: '%',
    ratio: false,
    digits: 1,
    get: (c) => mapDefined(docs(c)?.deltaShare, (v) => 100 * v),
  },
  {
    scenario: 's8',
    key: 'changed',
    label: 'document changed',
    unit: '%',
    ratio: false,
    digits: 1,
    get: (c) => mapDefined(docs(c)?.changedShare, (v) => 100 * v),
  },
  {
    scenario: 's8',
    key: 'mismatches',
    label: 'mismatches',
    unit: 'deliveries',
    ratio: false,
    digits: 0,
    get: (c) => docs(c)?.mismatches,
  },
  {
    scenario: 's8',
    key: 'missing',
    label: `missing${AT}`,
    unit: 'deliveries',
    ratio: false,
    digits: 0,
    get: (c) => c.result?.fixed?.missing,
  },
];

function mapDefined(v: number | undefined, f: (v: number) => number): number | undefined {
  return v === undefined ? undefined : f(v);
}

export const DELTA_PANELS = [
  {
    scenario: 's8',
    key: 'bytes',
    title: 'S8 delta: bytes on the wire per delivery of a 1 KB JSON document (lower is better)',
  },
  {
    scenario: 's8',
    key: 'max',
    title: 'S8 delta: max sustained deliveries/s of 1 KB JSON documents (higher is better)',
  },
] as const;
