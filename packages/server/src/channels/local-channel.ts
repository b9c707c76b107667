/**
 * A channel as one node sees it: the local subscribers, and the events that arrived from the engine
 * during the current tick. At the end of the tick (FlushScheduler) the events are framed once and
 * the same frame goes to every subscriber that wants all of them; only subscribers that must see a
 * subset (echo=false publishers, attachments that started mid-batch, missing modes) get their own.
 */
import type { ChannelEvent, ChannelKey } from '../engine/channel-store.js';
import { runsByKind } from './batch.js';
import { NO_CHAIN } from './delta-delivery.js';
import { RunDelivery } from './run-delivery.js';
import type { ChainEnd } from '../delta/delta-run.js';
import type { Subscriber } from './subscriber.js';
import type { Metrics } from '../metrics/metrics.js';
import type { StatsCounters } from '../stats/counters.js';
import type { Flushable } from '../util/scheduler.js';

/** Where the node's channels count what they deliver (one object per node, shared by its channels). */
export interface DeliveryCounters {
  readonly metrics: Metrics;
  readonly stats: StatsCounters;
}

/** The subscribers of a channel without any (shared, never changed). */
const NO_SUBSCRIBERS: readonly Subscriber[] = Object.freeze([]);

export class LocalChannel implements Flushable {
  /**
   * The local subscribers, in the order they came: none, the one in this field itself (most channels
   * have one subscriber, bench S3: no array of one, 56 bytes, nor a Set, 152), a Set from two on.
   */
  private subs: Subscriber | Set<Subscriber> | null = null;
  /** Events from the engine this tick; null when none. */
  pending: ChannelEvent[] | null = null;
  flushQueued = false;
  /** Engine subscription in progress or done. */
  engineSubscribed: Promise<void> | null = null;
  /**
   * What only a channel that had events keeps (gap detection, delta chain, dashboard counts): made
   * by its first event, so an attached-only channel keeps one field for seven (bench S3).
   */
  private traffic: ChannelTraffic | null = null;

  constructor(
    readonly key: ChannelKey,
    readonly appId: string,
    readonly name: string,
    private readonly counters: DeliveryCounters,
  ) {}

  private get seen(): ChannelTraffic {
    return (this.traffic ??= new ChannelTraffic());
  }

  /** Epoch and seq of the last event accepted from the engine (gap detection). */
  get lastEpoch(): string | undefined {
    return this.traffic?.lastEpoch;
  }
  set lastEpoch(epoch: string | undefined) {
    this.seen.lastEpoch = epoch;
  }
  get lastSeq(): number {
    return this.traffic?.lastSeq ?? 0;
  }
  set lastSeq(seq: number) {
    this.seen.lastSeq = seq;
  }

  /** Events held back while a gap is being filled from the log; null when no fill is running. */
  get holding(): ChannelEvent[] | null {
    return this.traffic?.holding ?? null;
  }
  set holding(events: ChannelEvent[] | null) {
    this.seen.holding = events;
  }

  /** The last message delivered and its payload, while subscribers take deltas (NO_CHAIN otherwise). */
  get deltaChain(): ChainEnd {
    return this.traffic?.deltaChain ?? NO_CHAIN;
  }

  /** Deltas encoded on this channel (for stats and tests). */
  get deltasEncoded(): number {
    return this.traffic?.deltasEncoded ?? 0;
  }

  /**
   * The admin dashboard's rates, counted as /metrics counts the node's: messages that reached this
   * channel here (published), and messages and presence messages delivered to its subscribers.
   */
  get itemsIn(): number {
    return this.traffic?.itemsIn ?? 0;
  }
  get itemsOut(): number {
    return this.traffic?.itemsOut ?? 0;
  }

  /** The local subscribers, in the order they came. */
  get subscribers(): Iterable<Subscriber> {
    const subs = this.subs;
    return subs === null ? NO_SUBSCRIBERS : subs instanceof Set ? subs : [subs];
  }

  get subscriberCount(): number {
    const subs = this.subs;
    return subs === null ? 0 : subs instanceof Set ? subs.size : 1;
  }

  /** Adds `sub` (once). */
  addSubscriber(sub: Subscriber): void {
    const subs = this.subs;
    if (subs === null) this.subs = sub;
    else if (subs instanceof Set) subs.add(sub);
    else if (subs !== sub) this.subs = new Set([subs, sub]);
  }

  /** Removes `sub`; false if it was not a subscriber. */
  deleteSubscriber(sub: Subscriber): boolean {
    const subs = this.subs;
    if (!(subs instanceof Set)) {
      if (subs !== sub) return false;
      this.subs = null;
      return true;
    }
    if (!subs.delete(sub)) return false;
    if (subs.size === 1) {
      const [only] = subs;
      this.subs = only!;
    }
    return true;
  }

  /**
   * Delivers the events gathered this tick. `last`: no channel flushes after this one this tick
   * (FlushScheduler), so the last run's fan-out may write connections with nothing queued at once.
   */
  flush(last: boolean): void {
    const events = this.pending;
    this.pending = null;
    if (!events || this.subscriberCount === 0) return;
    if (events.length === 1) {
      // A tick's one event is its one run (the common case: no arrays to split it into runs).
      this.deliverRun(events, last);
    } else {
      const runs = runsByKind(events);
      for (let i = 0; i < runs.length; i++) this.deliverRun(runs[i]!, last && i === runs.length - 1);
    }
    // Once per event and node, not per subscriber: publish accepted (its timestamp) → delivered here.
    // (Index loops on the per-publish path: an iterator's results are garbage until the JIT removes them.)
    const now = Date.now();
    const latency = this.counters.metrics.deliveryLatency;
    for (let i = 0; i < events.length; i++) latency.observe(Math.max(0, now - events[i]!.timestamp) / 1000);
  }

  private deliverRun(run: ChannelEvent[], direct: boolean): void {
    const t = this.seen;
    const d = new RunDelivery(this.name, run, t.deltaChain, direct);
    if (d.isMessage) t.itemsIn += d.items;
    // A loop for the Set alone: a loop that sees other iterables too iterates the Set of a large
    // fan-out several times slower (V8 inlines neither iterator).
    const subs = this.subs;
    if (subs instanceof Set) for (const sub of subs) d.to(sub);
    else if (subs !== null) d.to(subs);
    t.itemsOut += d.items * d.takers + d.itemsApart;
    if (d.recipients > 0) {
      this.counters.metrics.delivered(d.items * d.recipients);
      this.counters.stats.deliveredTo(this.appId, d.shared!, d.recipients);
    }
    if (d.publishers === null) return;
    // The chain only advances while someone takes deltas; a later delta subscriber starts whole.
    t.deltaChain = d.deltas ? d.deltas.end() : NO_CHAIN;
    if (d.deltas) t.deltasEncoded += d.deltas.encoded;
  }
}

/** A channel's state once it has had events (LocalChannel.traffic). */
class ChannelTraffic {
  lastEpoch: string | undefined = undefined;
  lastSeq = 0;
  holding: ChannelEvent[] | null = null;
  deltaChain: ChainEnd = NO_CHAIN;
  deltasEncoded = 0;
  itemsIn = 0;
  itemsOut = 0;
}

/** (Kept here for the attachment's backlog: what a subscriber should get of a run.) */
export { selectFor } from './run-delivery.js';
