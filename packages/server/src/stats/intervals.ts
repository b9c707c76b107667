/**
 * Stats intervals (Ably stats API): minutes, hours, days and months in UTC, named by interval ids
 * `yyyy-mm-dd:hh:mm`, `yyyy-mm-dd:hh`, `yyyy-mm-dd` and `yyyy-mm`.
 */
import type { StatsUnit } from '../engine/stats-store.js';

export const STATS_UNITS: readonly StatsUnit[] = ['minute', 'hour', 'day', 'month'];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Start (ms) of the `unit` interval that contains `time`. */
export function intervalStart(unit: StatsUnit, time: number): number {
  switch (unit) {
    case 'minute':
      return time - mod(time, MINUTE);
    case 'hour':
      return time - mod(time, HOUR);
    case 'day':
      return time - mod(time, DAY);
    case 'month': {
      const d = new Date(time);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    }
  }
}

/** Start of the interval after the one starting at `start`. */
export function intervalEnd(unit: StatsUnit, start: number): number {
  if (unit !== 'month') return start + (unit === 'minute' ? MINUTE : unit === 'hour' ? HOUR : DAY);
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

const pad = (n: number): string => String(n).padStart(2, '0');

export function formatIntervalId(unit: StatsUnit, start: number): string {
  const d = new Date(start);
  const month = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}`;
  if (unit === 'month') return month;
  const day = `${month}-${pad(d.getUTCDate())}`;
  if (unit === 'day') return day;
  const hour = `${day}:${pad(d.getUTCHours())}`;
  return unit === 'hour' ? hour : `${hour}:${pad(d.getUTCMinutes())}`;
}

const INTERVAL_ID_RE = /^(\d{4})-(\d{2})(?:-(\d{2})(?::(\d{2})(?::(\d{2}))?)?)?$/;

/** Parses an interval id into its unit and start; undefined when malformed or not a real date. */
export function parseIntervalId(text: string): { unit: StatsUnit; start: number } | undefined {
  const m = INTERVAL_ID_RE.exec(text);
  if (!m) return undefined;
  const [year, month, day = '01', hour = '00', minute = '00'] = m.slice(1);
  const unit: StatsUnit =
    m[5] !== undefined ? 'minute' : m[4] !== undefined ? 'hour' : m[3] !== undefined ? 'day' : 'month';
  const start = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute));
  // Reject 2023-02-30 and 25:00: a real date formats back to the same id.
  return formatIntervalId(unit, start) === text ? { unit, start } : undefined;
}
