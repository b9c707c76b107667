/**
 * App stats: `GET /stats` (per-minute counts of the app's own traffic, rolled up by `unit` — also
 * accepted as `by` — into hours, days and months; `start`/`end` as ms or interval ids) and, in
 * sandbox mode, `POST /stats` to load fixtures. Needs the `stats` capability. The answering node
 * adds its own pending counts first, so what it counted is in the answer.
 */
import { AblyError, Err, isArrayValue } from '@encke/protocol';
import type { AuthContext } from '../auth/authenticate.js';
import type { StatsRecord, StatsUnit } from '../engine/stats-store.js';
import type { HttpRequest, Router } from '../http/router.js';
import type { NodeContext } from '../context.js';
import { withRollups } from '../stats/entries.js';
import { parseStatsFixture } from '../stats/fixtures.js';
import { STATS_UNITS, formatIntervalId, intervalEnd, parseIntervalId } from '../stats/intervals.js';
import { pageLinks, parseDirection, parseLimit, parseMillis, parseTimeRange } from './query.js';
import { appRoute, readSandboxBody, reply } from './request.js';

/** The schema Ably names in flat (v2+) stats records. */
export const STATS_SCHEMA = 'https://schemas.ably.com/json/app-stats-0.0.5.json';

export function registerStatsRoutes(router: Router, ctx: NodeContext): void {
  appRoute(router, ctx, 'GET', '/stats', (http, auth) => getStats(ctx, http, auth));
  if (ctx.options.sandbox)
    appRoute(router, ctx, 'POST', '/stats', (http, auth) => loadFixtures(ctx, http, auth), { cors: false });
}

function requireStats(auth: AuthContext): void {
  // `stats` is an app-wide operation: it must be granted on `*`.
  const ops = [...auth.capability].filter(([resource]) => resource === '*' || resource === '[*]*').map(([, o]) => o);
  if (!ops.some((o) => o.has('stats') || o.has('*')))
    throw new AblyError(Err.capabilityDenied, 'Permission denied: stats not permitted');
}

/** A time as ms since the epoch or an interval id (`2024-02-03:15`): the start of that interval. */
function parseStatsTime(name: string, value: string): number {
  return parseIntervalId(value)?.start ?? parseMillis(name, value);
}

function parseUnit(query: URLSearchParams): StatsUnit {
  const value = query.get('unit') ?? query.get('by') ?? 'minute';
  if (!(STATS_UNITS as readonly string[]).includes(value)) {
    throw new AblyError(
      Err.invalidParameterValue,
      `Invalid unit ${JSON.stringify(value.slice(0, 20))}: expected minute, hour, day or month`,
    );
  }
  return value as StatsUnit;
}

function toWire(record: StatsRecord, appId: string, now: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    intervalId: formatIntervalId(record.unit, record.start),
    unit: record.unit,
    schema: STATS_SCHEMA,
    appId,
    entries: record.entries,
  };
  if (intervalEnd(record.unit, record.start) > now)
    out.inProgress = `${formatIntervalId('minute', record.lastMinute)}:00`;
  return out;
}

async function getStats(ctx: NodeContext, http: HttpRequest, auth: AuthContext): Promise<void> {
  requireStats(auth);
  const q = http.url.searchParams;
  const unit = parseUnit(q);
  const limit = parseLimit(q);
  const direction = parseDirection(q);
  const now = ctx.clock.now();
  const range = parseTimeRange(q, parseStatsTime);
  let from = range.start ?? 0;
  let to = range.end ?? now;
  const cursor = q.get('cursor');
  if (cursor !== null) {
    // The start of the last interval given: the next page continues past it.
    const last = parseMillis('cursor', cursor);
    if (direction === 'forwards') from = Math.max(from, last + 1);
    else to = Math.min(to, last - 1);
  }
  await ctx.stats.flush(auth.app.id);
  const { records, more } = await ctx.engine.stats.read(auth.app.id, { unit, from, to, direction, limit });
  const last = records[records.length - 1];
  const next = more && last ? String(last.start) : undefined;
  const items = records.map((r) => toWire(r, auth.app.id, now));
  reply(http, 200, items, { Link: pageLinks('stats', http.url, { limit: String(limit), direction, unit }, next) });
}

async function loadFixtures(ctx: NodeContext, http: HttpRequest, auth: AuthContext): Promise<void> {
  if (auth.method !== 'basic')
    throw new AblyError(Err.basicAuthRequired, 'Loading stats requires basic auth with a key of the app');
  if (ctx.apps.get(auth.app.id))
    throw new AblyError(Err.forbidden, 'Stats fixtures can be loaded only into sandbox apps; this app is configured');
  const body = await readSandboxBody(ctx, http);
  const fixtures = (isArrayValue(body) ? body : [body]).map((raw, i) => parseStatsFixture(raw, `[${i}]`));
  for (const f of fixtures) await ctx.engine.stats.add(auth.app.id, f.minute, withRollups(f.entries));
  reply(http, 201, { loaded: fixtures.length });
}
