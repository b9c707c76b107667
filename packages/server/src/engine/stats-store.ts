/** Per-app stats as the engine keeps them (Ably's flat entry names, rolled up by interval). */
import type { HistoryDirection } from './channel-store.js';

export type StatsUnit = 'minute' | 'hour' | 'day' | 'month';

/** One interval of an app's stats: flat entry names (`messages.inbound.realtime.messages.count`) → values. */
export interface StatsRecord {
  unit: StatsUnit;
  /** Interval start (ms, UTC). */
  start: number;
  /** Start of the newest minute that contributed. */
  lastMinute: number;
  entries: Record<string, number>;
}

export interface StatsQuery {
  unit: StatsUnit;
  /** Interval starts from `from` to `to` inclusive (ms). */
  from: number;
  to: number;
  direction: HistoryDirection;
  limit: number;
}

/**
 * Per-app stats, kept per minute and rolled up into hours, days and months as they are added.
 * Nodes count locally and add their counts every few seconds.
 */
export interface StatsStore {
  /** Merges `entries` into the minute starting at `minute` and its hour, day and month (`mergeStatsEntry`). */
  add(appId: string, minute: number, entries: Readonly<Record<string, number>>): Promise<void>;
  read(appId: string, query: StatsQuery): Promise<{ records: StatsRecord[]; more: boolean }>;
}
