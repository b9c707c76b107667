/**
 * A log-linear latency histogram in microseconds: exact below 128 µs, then 64 buckets per power of
 * two (about 1.5% resolution), up to ~35 minutes. Cheap enough to record every delivery.
 */
const HALF = 64;
const EXACT = 2 * HALF;
const HALF_BITS = 6;
const MAX_VALUE = 2 ** 31 - 1;
const BUCKETS = EXACT + (31 - HALF_BITS) * HALF;

export class Histogram {
  readonly counts = new Float64Array(BUCKETS);
  total = 0;
  /** The largest value recorded (exact, not a bucket edge); 0 when empty. */
  max = 0;

  record(us: number): void {
    const v = us <= 0 ? 0 : us >= MAX_VALUE ? MAX_VALUE : Math.floor(us);
    this.counts[bucketOf(v)]!++;
    this.total++;
    if (v > this.max) this.max = v;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.max = 0;
  }

  /** Adds counts sent over IPC (`toJSON` of another histogram). */
  addCounts(counts: ArrayLike<number>): void {
    for (let i = 0; i < counts.length && i < BUCKETS; i++) {
      this.counts[i]! += counts[i]!;
      this.total += counts[i]!;
    }
  }

  /** The value (µs, upper edge of its bucket) at quantile q in [0, 1]; NaN when empty. */
  quantile(q: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return upperEdge(i);
    }
    return MAX_VALUE;
  }

  toJSON(): number[] {
    return Array.from(this.counts);
  }
}

export function bucketOf(v: number): number {
  if (v < EXACT) return v;
  const shift = 31 - Math.clz32(v) - HALF_BITS;
  return EXACT + (shift - 1) * HALF + ((v >>> shift) - HALF);
}

export function upperEdge(bucket: number): number {
  if (bucket < EXACT) return bucket;
  const k = bucket - EXACT;
  const shift = Math.floor(k / HALF) + 1;
  const top = (k % HALF) + HALF;
  return (top + 1) * 2 ** shift - 1;
}
