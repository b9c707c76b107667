/**
 * Periodic work on every item of a large, changing collection, spread over the period instead of
 * done all at once. The heartbeat pass visits every connection each `heartbeatInterval`; done in
 * one go, a node with thousands of connections pinged them all in the same tick (thousands of
 * socket writes, then as many pongs to read), and every message published meanwhile waited behind
 * it: the tail of the delivery latency (issue 19). Here the period is cut into `slices` timer
 * firings, each visiting its share of the items, so each item is still visited once a period.
 *
 * A round starts at the end of each period (the moment the one-shot pass used to run, so a lone
 * item is visited exactly when it was before) with the items there are then; each firing takes the
 * next `ceil(size / slices)` of them. Items added during a round are visited in it or the next one
 * (a Map iterator sees later insertions); removed ones are skipped.
 */
export interface SweepSource<T> {
  readonly size: number;
  values(): IterableIterator<T>;
}

export class SlicedSweep<T> {
  private cursor: Iterator<T> | null = null;
  private perSlice = 0;
  private fired = 0;

  constructor(
    private readonly source: SweepSource<T>,
    /** Timer firings per period (the timer runs every period / slices). */
    readonly slices: number,
    private readonly visit: (item: T) => void,
  ) {}

  /** One timer firing: starts a round at the end of each period, then visits this slice's share. */
  step(): void {
    this.fired = (this.fired + 1) % this.slices;
    if (this.fired === 0) {
      this.cursor = this.source.values();
      this.perSlice = Math.ceil(this.source.size / this.slices);
    }
    const cursor = this.cursor;
    if (!cursor) return;
    for (let i = 0; i < this.perSlice; i++) {
      const next = cursor.next();
      if (next.done === true) {
        this.cursor = null;
        return;
      }
      this.visit(next.value);
    }
  }
}

/** Shortest time between two firings of a sliced pass (ms): short periods are cut into fewer slices. */
const MIN_SLICE_MS = 50;
/** Most slices a period is cut into. */
const MAX_SLICES = 20;

/** How many slices a pass of `periodMs` is cut into: at most 20, each at least 50 ms apart. */
export function slicesFor(periodMs: number): number {
  return Math.max(1, Math.min(MAX_SLICES, Math.floor(periodMs / MIN_SLICE_MS)));
}
