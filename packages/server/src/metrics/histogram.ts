/**
 * A fixed-bucket histogram of plain numbers: observing is a short loop over the bounds and two
 * additions (no labels, no allocation); Prometheus' cumulative buckets are built at scrape time.
 */

/** Bucket upper bounds (seconds) for latencies from sub-millisecond to seconds. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export interface HistogramSnapshot {
  /** Upper bounds, ascending; the last bucket (+Inf) is `count`. */
  buckets: readonly number[];
  /** Observations at or below each bound (cumulative, as Prometheus reports them). */
  cumulative: number[];
  count: number;
  /** Sum of the observed values (seconds). */
  sum: number;
}

export class Histogram {
  private readonly counts: number[];
  private total = 0;
  private sum = 0;

  constructor(readonly buckets: readonly number[] = LATENCY_BUCKETS) {
    this.counts = new Array<number>(buckets.length).fill(0);
  }

  observe(value: number): void {
    this.total++;
    this.sum += value;
    const b = this.buckets;
    for (let i = 0; i < b.length; i++) {
      if (value <= b[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }

  snapshot(): HistogramSnapshot {
    const cumulative: number[] = [];
    let running = 0;
    for (const c of this.counts) cumulative.push((running += c));
    return { buckets: this.buckets, cumulative, count: this.total, sum: this.sum };
  }
}
