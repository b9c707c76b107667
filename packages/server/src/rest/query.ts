/**
 * Query parameters of paginated REST endpoints (`limit`, `direction`, `start`, `end`) and the
 * `Link` header that points at the next page (protocol fact sheet §5.1: relative `./word?params`
 * URLs, every value percent-encoded so that no comma breaks ably-js's split on `,`).
 *
 * Every next page is the same query plus a `cursor`; the first page is the query without one.
 */
import { AblyError, Err } from '@encke/protocol';
import type { HistoryDirection } from '../engine/channel-store.js';

/** Items per page when `limit` is not given, and the most a page may hold (Ably REST API). */
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

function invalid(name: string, value: string, expected: string): never {
  throw new AblyError(Err.invalidParameterValue, `Invalid ${name} ${JSON.stringify(value.slice(0, 40))}: ${expected}`);
}

/** `limit`: an integer from 1 to 1000, 100 by default. */
export function parseLimit(query: URLSearchParams): number {
  const value = query.get('limit');
  if (value === null) return DEFAULT_LIMIT;
  const limit = Number(value);
  if (!/^\d{1,4}$/.test(value) || limit < 1 || limit > MAX_LIMIT)
    invalid('limit', value, `expected an integer from 1 to ${MAX_LIMIT}`);
  return limit;
}

/** `direction`: `backwards` (newest first, the default) or `forwards`. */
export function parseDirection(query: URLSearchParams): HistoryDirection {
  const value = query.get('direction');
  if (value === null) return 'backwards';
  if (value !== 'backwards' && value !== 'forwards') invalid('direction', value, 'expected backwards or forwards');
  return value;
}

/** A time in ms since the epoch. */
export function parseMillis(name: string, value: string): number {
  if (!/^\d{1,15}$/.test(value)) invalid(name, value, 'expected a time in milliseconds since the epoch');
  return Number(value);
}

export interface TimeRange {
  start?: number;
  end?: number;
}

/** `start` and `end` (inclusive), read by `parse`; 40003 when `start` is after `end`. */
export function parseTimeRange(
  query: URLSearchParams,
  parse: (name: string, value: string) => number = parseMillis,
): TimeRange {
  const range: TimeRange = {};
  const start = query.get('start');
  const end = query.get('end');
  if (start !== null) range.start = parse('start', start);
  if (end !== null) range.end = parse('end', end);
  if (range.start !== undefined && range.end !== undefined && range.start > range.end) {
    throw new AblyError(
      Err.invalidParameterValue,
      `Invalid time range: start (${range.start}) is after end (${range.end})`,
    );
  }
  return range;
}

/** Params a Link never repeats: the client adds its own envelope and credentials on every request. */
const NOT_LINKED = new Set(['envelope', 'key', 'access_token', 'accessToken', 'cursor']);

function queryString(params: [string, string][]): string {
  return params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

/**
 * The `Link` header of a page at `./<resource>`: `first` (this query without a cursor) and, when
 * more items follow, `next` (this query with `nextCursor`). `effective` holds the values the query
 * ran with (limit, direction…), so that every link has params (ably-js ignores a link without).
 */
export function pageLinks(
  resource: string,
  url: { readonly searchParams: URLSearchParams },
  effective: Record<string, string>,
  nextCursor: string | undefined,
): string {
  const params: [string, string][] = [...url.searchParams].filter(([k]) => !NOT_LINKED.has(k) && !(k in effective));
  params.push(...Object.entries(effective));
  const links = [`<./${resource}?${queryString(params)}>; rel="first"`];
  if (nextCursor !== undefined)
    links.push(`<./${resource}?${queryString([...params, ['cursor', nextCursor]])}>; rel="next"`);
  return links.join(', ');
}
