/**
 * A channel as one node sees it: the local subscribers, and the events that arrived from the engine
 * during the current tick. At the end of the tick (FlushScheduler) the events are framed once and
 * the same frame goes to every subscriber that wants all of them; only subscribers that must see a
 * subset (echo=false publishers, attachments that started mid-batch, missing modes) get their own.
 */
import type { ChannelEvent, ChannelKey } from '../engine/channel-store.js';
import { OutboundFrame } from '../wire/frame.js';
import { MODE_FOR_KIND, eventsToProtocolMessage, runsByKind } from './batch.js';
import { NO_CHAIN, RunDeltas } from './delta-delivery.js';
import { RunFilters } from './filter-delivery.js';
import type { ChainEnd } from '../delta/delta-run.js';
import type { Subscriber } from './subscriber.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Flushable } from '../util/scheduler.js';

/** The subscribers of a channel without any (shared, never changed). */
const NO_SUBSCRIBERS: readonly Subscriber[] = Object.freeze([]);

export class LocalChannel implements Flushable {
  /**
   * The local subscribers, in the order they came: an array of one while there is one (56 bytes,
   * where a Set is 152: most channels have one subscriber, bench S3), a Set from two on.
   */
  private subs: readonly Subscriber[] | Set<Subscriber> = NO_SUBSCRIBERS;
  /** Events from the engine this tick; null when none. */
  pending: ChannelEvent[] | null = null;
  flushQueued = false;
  /** Engine subscription in progress or done. */
  engineSubscribed: Promise<void> | null = null;
  /** Epoch and seq of the last event accepted from the engine (gap detection). */
  lastEpoch: string | undefined = undefined;
  lastSeq = 0;
  /** Events held back while a gap is being filled from the log; null when no fill is running. */
  holding: ChannelEvent[] | null = null;
  /** The last message delivered and its payload, while subscribers take deltas (NO_CHAIN otherwise). */
  deltaChain: ChainEnd = NO_CHAIN;
  /** Deltas encoded on this channel (for stats and tests). */
  deltasEncoded = 0;
  /**
   * The admin dashboard's rates, counted as /metrics counts the node's: messages that reached this
   * channel here (published), and messages and presence messages delivered to its subscribers.
   */
  itemsIn = 0;
  itemsOut = 0;

  constructor(
    readonly key: ChannelKey,
    readonly appId: string,
    readonly name: string,
    private readonly metrics: Metrics,
  ) {}

  /** The local subscribers, in the order they came. */
  get subscribers(): Iterable<Subscriber> {
    return this.subs;
  }

  get subscriberCount(): number {
    const subs = this.subs;
    return subs instanceof Set ? subs.size : subs.length;
  }

  /** Adds `sub` (once). */
  addSubscriber(sub: Subscriber): void {
    const subs = this.subs;
    if (subs instanceof Set) subs.add(sub);
    else if (subs.length === 0) this.subs = [sub];
    else if (subs[0] !== sub) this.subs = new Set([subs[0]!, sub]);
  }

  /** Removes `sub`; false if it was not a subscriber. */
  deleteSubscriber(sub: Subscriber): boolean {
    const subs = this.subs;
    if (!(subs instanceof Set)) {
      if (subs[0] !== sub) return false;
      this.subs = NO_SUBSCRIBERS;
      return true;
    }
    if (!subs.delete(sub)) return false;
    if (subs.size === 1) {
      const [only] = subs;
      this.subs = [only!];
    }
    return true;
  }

  /** Delivers the events gathered this tick. */
  flush(): void {
    const events = this.pending;
    this.pending = null;
    if (!events || this.subscriberCount === 0) return;
    for (const run of runsByKind(events)) this.deliverRun(run);
    // Once per event and node, not per subscriber: publish accepted (its timestamp) → delivered here.
    const now = Date.now();
    for (const e of events) this.metrics.deliveryLatency.observe(Math.max(0, now - e.timestamp) / 1000);
  }

  private deliverRun(run: ChannelEvent[]): void {
    const first = run[0]!;
    const last = run[run.length - 1]!;
    const items = itemCount(run);
    if (first.kind === 'message') this.itemsIn += items;
    const mode = MODE_FOR_KIND[first.kind];
    const publishers = first.kind === 'message' ? publishersOf(run) : null;
    let shared: OutboundFrame | undefined;
    let deltas: RunDeltas | undefined;
    let filters: RunFilters | undefined;
    for (const sub of this.subscribers) {
      if (!sub.live) {
        sub.buffer(run);
        continue;
      }
      if (sub.cursor >= last.seq) continue;
      if ((sub.modes & mode) === 0) {
        sub.cursor = last.seq;
        continue;
      }
      const skipOwn = !sub.echo && publishers !== null && publishers.has(sub.connectionId);
      if (sub.filter && publishers !== null) {
        // (What a filter lets through is not counted in itemsOut: the dashboard's per-channel rate leaves it out.)
        filters ??= new RunFilters(run);
        filters.deliver(sub, sub.filter, sub.cursor < first.seq && !skipOwn ? null : selectFor(sub, run));
      } else if (sub.delta && publishers !== null) {
        deltas ??= new RunDeltas(this.name, run, this.deltaChain);
        const subset = sub.cursor < first.seq && !skipOwn ? null : selectFor(sub, run);
        deltas.deliver(sub, subset);
        this.itemsOut += subset ? itemCount(subset) : items;
      } else if (sub.cursor < first.seq && !skipOwn) {
        sub.send((shared ??= new OutboundFrame(eventsToProtocolMessage(this.name, run))));
        this.itemsOut += items;
      } else {
        const subset = selectFor(sub, run);
        if (subset.length > 0) sub.send(new OutboundFrame(eventsToProtocolMessage(this.name, subset)));
        this.itemsOut += itemCount(subset);
      }
      sub.cursor = last.seq;
    }
    if (publishers === null) return;
    // The chain only advances while someone takes deltas; a later delta subscriber starts whole.
    this.deltaChain = deltas ? deltas.end() : NO_CHAIN;
    if (deltas) this.deltasEncoded += deltas.encoded;
  }
}

function itemCount(events: readonly ChannelEvent[]): number {
  let n = 0;
  for (const e of events) n += (e.messages?.length ?? 0) + (e.presence?.length ?? 0);
  return n;
}

function publishersOf(run: readonly ChannelEvent[]): Set<string> {
  const ids = new Set<string>();
  for (const e of run) if (e.connectionId !== undefined) ids.add(e.connectionId);
  return ids;
}

/** The events of `run` that `sub` should get: after its cursor, and not its own when echo is off. */
export function selectFor(sub: Subscriber, run: readonly ChannelEvent[]): ChannelEvent[] {
  return run.filter(
    (e) => e.seq > sub.cursor && (sub.echo || e.kind !== 'message' || e.connectionId !== sub.connectionId),
  );
}
