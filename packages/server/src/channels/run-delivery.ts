/**
 * One run of a channel's events (one kind, in order) handed to the channel's subscribers, one
 * subscriber at a time (`to`), by LocalChannel.deliverRun. The same frame goes to every subscriber
 * that wants the whole run; only subscribers that must see a subset (echo=false publishers,
 * attachments that started mid-batch), a filter or deltas get their own.
 */
import type { ChannelEvent } from '../engine/channel-store.js';
import { OutboundFrame } from '../wire/frame.js';
import type { ChainEnd } from '../delta/delta-run.js';
import { MODE_FOR_KIND, eventsToProtocolMessage } from './batch.js';
import { RunDeltas } from './delta-delivery.js';
import { RunFilters } from './filter-delivery.js';
import type { Subscriber } from './subscriber.js';

export class RunDelivery {
  // Read once: events come in many shapes, so each read of a field is a megamorphic lookup.
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly isMessage: boolean;
  /** Messages and presence messages in the run. */
  readonly items: number;
  private readonly mode: number;
  /** Connections that published the run's messages (`publishersOf`; null for presence and annotations). */
  readonly publishers: Publishers | null;
  /** The frame of the whole run, made for the first subscriber that takes it. */
  shared: OutboundFrame | undefined = undefined;
  deltas: RunDeltas | undefined = undefined;
  private filters: RunFilters | undefined = undefined;
  /** Subscribers given `shared`, and those of them it went out to (the channel counts them once). */
  takers = 0;
  recipients = 0;
  /** Items in frames of their own (subsets, deltas), for the channel's dashboard rate. */
  itemsApart = 0;

  constructor(
    private readonly name: string,
    private readonly run: ChannelEvent[],
    private readonly deltaChain: ChainEnd,
    /** The tick's last channel: a connection with nothing queued is written at once (Session.deliverShared). */
    private readonly direct: boolean,
  ) {
    const first = run[0]!;
    this.firstSeq = first.seq;
    this.lastSeq = run[run.length - 1]!.seq;
    this.isMessage = first.kind === 'message';
    this.items = itemCount(run);
    this.mode = MODE_FOR_KIND[first.kind];
    this.publishers = this.isMessage ? publishersOf(run) : null;
  }

  /** `sub`'s turn: what it should get of the run, and its cursor moved past it. */
  to(sub: Subscriber): void {
    if (!sub.live) return sub.buffer(this.run);
    const lastSeq = this.lastSeq;
    if (sub.cursor >= lastSeq) return;
    if ((sub.modes & this.mode) === 0) {
      sub.cursor = lastSeq;
      return;
    }
    const publishers = this.publishers;
    const whole =
      sub.cursor < this.firstSeq && (sub.echo || publishers === null || !publishedBy(publishers, sub.connectionId));
    if (sub.filter && publishers !== null) {
      // (What a filter lets through is not counted in itemsOut: the dashboard's per-channel rate leaves it out.)
      this.filters ??= new RunFilters(this.run);
      this.filters.deliver(sub, sub.filter, whole ? null : selectFor(sub, this.run));
    } else if (sub.delta && publishers !== null) {
      this.deltas ??= new RunDeltas(this.name, this.run, this.deltaChain);
      const subset = whole ? null : selectFor(sub, this.run);
      this.deltas.deliver(sub, subset);
      this.itemsApart += subset ? itemCount(subset) : this.items;
    } else if (whole) {
      this.shared ??= new OutboundFrame(eventsToProtocolMessage(this.name, this.run));
      this.takers++;
      if (sub.deliverShared(this.shared, this.direct)) this.recipients++;
    } else {
      const subset = selectFor(sub, this.run);
      if (subset.length > 0) sub.send(new OutboundFrame(eventsToProtocolMessage(this.name, subset)));
      this.itemsApart += itemCount(subset);
    }
    sub.cursor = lastSeq;
  }
}

function itemCount(events: readonly ChannelEvent[]): number {
  let n = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    n += (e.messages?.length ?? 0) + (e.presence?.length ?? 0);
  }
  return n;
}

/**
 * The connections that published a run's messages: the one event's connection (undefined for none: a
 * REST publish) for a run of one event, the common case, which then needs no Set (bench S7: ~150
 * bytes a publish); a Set for a longer run.
 */
type Publishers = ReadonlySet<string> | string | undefined;

function publishersOf(run: readonly ChannelEvent[]): Publishers {
  if (run.length === 1) return run[0]!.connectionId;
  const ids = new Set<string>();
  for (let i = 0; i < run.length; i++) {
    const id = run[i]!.connectionId;
    if (id !== undefined) ids.add(id);
  }
  return ids;
}

/** Whether connection `id` published any of the run's messages. */
function publishedBy(publishers: Publishers, id: string): boolean {
  return typeof publishers === 'string' ? publishers === id : publishers !== undefined && publishers.has(id);
}

/** The events of `run` that `sub` should get: after its cursor, and not its own when echo is off. */
export function selectFor(sub: Subscriber, run: readonly ChannelEvent[]): ChannelEvent[] {
  return run.filter(
    (e) => e.seq > sub.cursor && (sub.echo || e.kind !== 'message' || e.connectionId !== sub.connectionId),
  );
}
