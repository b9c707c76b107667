/**
 * Coalesces output per tick. During a tick, channels collect the events the engine delivered and
 * sessions collect the frames they must send. At the end of the tick (setImmediate, after the I/O
 * that produced them) every dirty channel flushes into its subscribers' sessions, then every dirty
 * session writes all its frames in one go: one socket write per connection per tick, however many
 * messages and channels were involved. Work that belongs to the tick but must not delay its first
 * write runs after the run (`afterFanOut`).
 */
export interface Flushable {
  flushQueued: boolean;
  /**
   * `last` (for channels): no channel flushes after this one in this run, so a connection that has
   * nothing queued when it gets this channel's frame gets no other frame this tick, and the frame
   * may be written at once (Session.deliverShared) with one write per connection per tick kept.
   */
  flush(last: boolean): void;
}

/** Work waiting for this tick's fan-out to be written (`afterFanOut`), oldest first. */
const afterRun: (() => void)[] = [];
/** FlushSchedulers of this process with a run scheduled; while there is one, `afterFanOut` work waits for it. */
let scheduledRuns = 0;
/** An immediate of its own is queued for `afterFanOut` work (no run was scheduled when it came). */
let afterQueued = false;

/**
 * Runs `work` once this tick's fan-out has been written: right after the run of a FlushScheduler
 * scheduled in this tick (the node's flush), or in an immediate of its own when none is. For work that
 * must not delay a fan-out's first write but belongs to the same tick (the memory engine writing a
 * publish's log entry as bytes, bench S7): no immediate of its own when a run is scheduled (~4k
 * instructions a publish). `work` must not throw.
 */
export function afterFanOut(work: () => void): void {
  afterRun.push(work);
  if (scheduledRuns > 0 || afterQueued) return;
  afterQueued = true;
  setImmediate(runAfterFanOut);
}

function runAfterFanOut(): void {
  afterQueued = false;
  // (Work queued by this work waits for the next run or immediate.)
  const n = afterRun.length;
  for (let i = 0; i < n; i++) afterRun[i]!();
  afterRun.splice(0, n);
}

/** What to do with an exception one item's flush threw (the others of the tick still flush). */
export type FlushFailed = (item: Flushable, err: unknown) => void;

export class FlushScheduler {
  private channels: Flushable[] = [];
  private sessions: Flushable[] = [];
  private scheduled = false;
  private readonly runBound = (): void => this.run();

  constructor(
    private readonly failed: FlushFailed = (_item, err) =>
      setImmediate(() => {
        throw err;
      }),
    /** Runs after each flush (the stats counters add up the tick's deliveries). */
    private readonly flushed: () => void = () => undefined,
  ) {}

  channel(item: Flushable): void {
    if (item.flushQueued) return;
    item.flushQueued = true;
    this.channels.push(item);
    this.schedule();
  }

  session(item: Flushable): void {
    if (item.flushQueued) return;
    item.flushQueued = true;
    this.sessions.push(item);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    scheduledRuns++;
    setImmediate(this.runBound);
  }

  /**
   * Runs both phases now (also used by tests and on shutdown). The sessions the channels fed write
   * first, then those that had frames before (a publisher's ACK, an ATTACHED): a fan-out is not
   * queued behind the replies of the tick that caused it. Each session's own frames keep their order.
   * The last channel writes the connections that had nothing queued as it goes (the fast path of a
   * fan-out): those go out before all the others.
   */
  run(): void {
    if (this.scheduled) {
      this.scheduled = false;
      scheduledRuns--;
    }
    const earlier = this.sessions;
    this.sessions = [];
    const channels = this.channels;
    this.channels = [];
    const last = channels.length - 1;
    for (let i = 0; i <= last; i++) this.flushOne(channels[i]!, i === last);
    const fanOut = this.sessions;
    this.sessions = [];
    for (const s of fanOut) this.flushOne(s);
    for (const s of earlier) this.flushOne(s);
    this.flushed();
    if (afterRun.length > 0) runAfterFanOut();
  }

  /** An exception while writing `item` outside its flush (a fan-out written at once): handled as in its flush. */
  fault(item: Flushable, err: unknown): void {
    this.failed(item, err);
  }

  private flushOne(item: Flushable, last = false): void {
    item.flushQueued = false;
    try {
      item.flush(last);
    } catch (err) {
      this.failed(item, err);
    }
  }
}
