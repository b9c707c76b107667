/**
 * What a LocalChannel counts its deliveries in, for unit tests that make channels by hand: fresh
 * metrics, and stats counters on a still clock that store nothing and log nothing.
 */
import { FakeClock, type LocalChannel, Metrics, StatsCounters, type StatsStore } from '@encke/server/internal';

const NO_STATS: StatsStore = {
  add: () => Promise.resolve(),
  read: () => Promise.resolve({ records: [], more: false }),
};
const QUIET = { warn() {}, isLevelEnabled: () => false } as unknown as ConstructorParameters<typeof StatsCounters>[2];

/** A LocalChannel's `counters` argument. */
export const channelCounters = (): ConstructorParameters<typeof LocalChannel>[3] => ({
  metrics: new Metrics(),
  stats: new StatsCounters(new FakeClock(0), NO_STATS, QUIET),
});
