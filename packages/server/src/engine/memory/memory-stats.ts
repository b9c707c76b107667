/** The memory engine's stats: per app and unit, intervals by start time, newest kept. */
import { mergeStatsEntries } from '../../stats/entries.js';
import { STATS_UNITS, intervalStart } from '../../stats/intervals.js';
import type { StatsQuery, StatsRecord, StatsStore, StatsUnit } from '../stats-store.js';

export class MemoryStats implements StatsStore {
  /** appId → unit → interval start → record. */
  private readonly apps = new Map<string, Map<StatsUnit, Map<number, StatsRecord>>>();

  /** @param maxIntervals intervals kept per app and unit; the oldest go first. */
  constructor(private readonly maxIntervals: number) {}

  add(appId: string, minute: number, entries: Readonly<Record<string, number>>): Promise<void> {
    let units = this.apps.get(appId);
    if (!units) this.apps.set(appId, (units = new Map<StatsUnit, Map<number, StatsRecord>>()));
    for (const unit of STATS_UNITS) {
      let intervals = units.get(unit);
      if (!intervals) units.set(unit, (intervals = new Map<number, StatsRecord>()));
      const start = intervalStart(unit, minute);
      let record = intervals.get(start);
      if (!record) {
        intervals.set(start, (record = { unit, start, lastMinute: minute, entries: {} }));
        if (intervals.size > this.maxIntervals) intervals.delete(Math.min(...intervals.keys()));
      }
      record.lastMinute = Math.max(record.lastMinute, minute);
      mergeStatsEntries(record.entries, entries);
    }
    return Promise.resolve();
  }

  read(appId: string, query: StatsQuery): Promise<{ records: StatsRecord[]; more: boolean }> {
    const intervals = this.apps.get(appId)?.get(query.unit);
    if (!intervals) return Promise.resolve({ records: [], more: false });
    const matching = [...intervals.values()].filter((r) => r.start >= query.from && r.start <= query.to);
    matching.sort((a, b) => (query.direction === 'forwards' ? a.start - b.start : b.start - a.start));
    const records = matching.slice(0, query.limit).map((r) => ({ ...r, entries: { ...r.entries } }));
    return Promise.resolve({ records, more: matching.length > query.limit });
  }
}
