/**
 * Items that must be visited once they have waited at least one period, kept in two generations
 * on one timer instead of a timer each: a firing visits the items added before the previous
 * firing, so an item waits between one and two periods. The owner arms its timer (real or the
 * node's clock) and calls `rotate` when it fires.
 */
export class Generations<T> {
  private fresh = new Set<T>();
  private due = new Set<T>();

  add(item: T): void {
    this.fresh.add(item);
  }

  delete(item: T): void {
    this.fresh.delete(item);
    this.due.delete(item);
  }

  /** Visits the older generation, makes the newer one older; true if items are left to wait for. */
  rotate(visit: (item: T) => void): boolean {
    const due = this.due;
    this.due = this.fresh;
    this.fresh = due;
    for (const item of due) visit(item);
    due.clear();
    return this.due.size > 0;
  }
}
