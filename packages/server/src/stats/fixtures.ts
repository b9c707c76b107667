/**
 * Stats fixtures for `POST /stats` (sandbox): the records SDK test suites load, in Ably's old
 * nested form (`{intervalId, inbound: {realtime: {messages: {count, data}}}, …}`), turned into the
 * flat leaf entries of today's stats (`messages.inbound.realtime.messages.count`). A record may
 * also give flat `entries` directly. Totals (`all`) are derived, so given ones are skipped.
 */
import { AblyError, Err, isPlainObject } from '@encke/protocol';
import { parseIntervalId } from './intervals.js';

type Obj = Record<string, unknown>;

/** Deepest nesting a fixture may use. */
const MAX_DEPTH = 5;

export interface StatsFixture {
  /** Start of the interval (ms); its counts are added to this minute. */
  minute: number;
  entries: Record<string, number>;
}

function bad(where: string, problem: string): never {
  throw new AblyError(Err.invalidRequestBody, `Invalid stats fixture ${where}: ${problem}`);
}

/** Numbers under `obj`, by dotted path, `all` totals left out. */
function leaves(obj: Obj, prefix: string, out: Record<string, number>, where: string, depth = 0): void {
  if (depth > MAX_DEPTH) bad(where, 'nested too deeply');
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'all') continue;
    const name = `${prefix}.${k}`;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) bad(where, `${name} must be a finite number`);
      out[name] = v;
    } else if (isPlainObject(v)) {
      leaves(v, name, out, where, depth + 1);
    } else {
      bad(where, `${name} must be a number or an object`);
    }
  }
}

/** Where each top-level section of the nested form goes in the flat names. */
const SECTIONS: Record<string, string> = {
  inbound: 'messages.inbound',
  outbound: 'messages.outbound',
  persisted: 'messages.persisted',
  connections: 'connections',
  channels: 'channels',
  apiRequests: 'apiRequests.other',
  tokenRequests: 'apiRequests.tokenRequests',
};

/** Fields of a record that are not counts. */
const NOT_COUNTS = new Set([
  'intervalId',
  'unit',
  'intervalGranularity',
  'inProgress',
  'schema',
  'appId',
  'intervalTime',
  'all',
]);

export function parseStatsFixture(raw: unknown, where: string): StatsFixture {
  if (!isPlainObject(raw)) bad(where, 'must be an object');
  const interval = typeof raw.intervalId === 'string' ? parseIntervalId(raw.intervalId) : undefined;
  if (!interval) bad(where, 'intervalId must be an interval id such as "2024-02-03:15:03"');
  const entries: Record<string, number> = {};
  if (raw.entries !== undefined) {
    if (!isPlainObject(raw.entries)) bad(where, 'entries must be an object of numbers');
    for (const [name, v] of Object.entries(raw.entries)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) bad(where, `entries.${name} must be a number`);
      entries[name] = v;
    }
  }
  for (const [section, value] of Object.entries(raw)) {
    if (NOT_COUNTS.has(section) || section === 'entries') continue;
    if (!isPlainObject(value)) bad(where, `${section} must be an object`);
    leaves(value, SECTIONS[section] ?? section, entries, where);
  }
  return { minute: interval.start, entries };
}
