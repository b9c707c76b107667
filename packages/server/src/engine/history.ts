/**
 * History pages over a channel's log (oldest event first), shared by every engine so that paging
 * behaves the same whatever holds the log. Positions are (event seq, item index); a page continues
 * strictly past `after` and never beyond `untilSeq`, so nothing is skipped or repeated while new
 * events arrive.
 *
 * The log is an array (the Redis engine's read) or a list read by position (the memory engine's
 * packed log, whose events are decoded when read): a scan reads seqs, kinds and timestamps by
 * position and decodes only the events it visits.
 */
import type { ChannelEvent, ChannelHead, EventKind, HistoryEntry, HistoryPage, HistoryQuery } from './channel-store.js';

/** A log read by position (0 the oldest event): its seqs increase. */
export interface EventList {
  readonly length: number;
  seqAt(i: number): number;
  kindAt(i: number): EventKind;
  timestampAt(i: number): number;
  /** Event `i` itself (decoded, for a packed log). */
  at(i: number): ChannelEvent;
}

/** An array read as an EventList. */
class ArrayList implements EventList {
  constructor(private readonly events: readonly ChannelEvent[]) {}
  get length(): number {
    return this.events.length;
  }
  seqAt(i: number): number {
    return this.events[i]!.seq;
  }
  kindAt(i: number): EventKind {
    return this.events[i]!.kind;
  }
  timestampAt(i: number): number {
    return this.events[i]!.timestamp;
  }
  at(i: number): ChannelEvent {
    return this.events[i]!;
  }
}

function itemCount(event: ChannelEvent, kind: EventKind): number {
  return (kind === 'message' ? event.messages?.length : event.presence?.length) ?? 0;
}

/** Whether event `i` is one the query asks for (read without decoding it). */
function matches(events: EventList, i: number, query: HistoryQuery): boolean {
  if (events.kindAt(i) !== query.kind) return false;
  const timestamp = events.timestampAt(i);
  return (query.start === undefined || timestamp >= query.start) && (query.end === undefined || timestamp <= query.end);
}

/** Index of the first event with seq > `seq` (binary search; seqs increase). */
function indexAfter(events: EventList, seq: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events.seqAt(mid) <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

type Visit = (event: ChannelEvent, index: number) => boolean;

function scanBackwards(events: EventList, query: HistoryQuery, visit: Visit): void {
  const after = query.after;
  const topSeq = Math.min(query.untilSeq ?? Infinity, after ? after.seq : Infinity);
  for (let i = indexAfter(events, topSeq) - 1; i >= 0; i--) {
    if (!matches(events, i, query)) continue;
    const event = events.at(i);
    let index = itemCount(event, query.kind) - 1;
    if (after && event.seq === after.seq) index = Math.min(index, after.index - 1);
    for (; index >= 0; index--) if (!visit(event, index)) return;
  }
}

function scanForwards(events: EventList, query: HistoryQuery, visit: Visit): void {
  const after = query.after;
  const untilSeq = query.untilSeq ?? Infinity;
  for (let i = after ? indexAfter(events, after.seq - 1) : 0; i < events.length; i++) {
    if (events.seqAt(i) > untilSeq) return;
    if (!matches(events, i, query)) continue;
    const event = events.at(i);
    const count = itemCount(event, query.kind);
    for (let index = after && event.seq === after.seq ? after.index + 1 : 0; index < count; index++) {
      if (!visit(event, index)) return;
    }
  }
}

/** A page of `query` over `log` (the whole retained log of a channel whose head is `head`). */
export function historyPage(
  log: readonly ChannelEvent[] | EventList,
  head: ChannelHead,
  query: HistoryQuery,
): HistoryPage {
  const events = log instanceof Array ? new ArrayList(log) : log;
  if (query.epoch !== undefined && query.epoch !== head.epoch) return { head, entries: [], more: false, stale: true };
  const entries: HistoryEntry[] = [];
  let more = false;
  const visit: Visit = (event, index) => {
    if (entries.length === query.limit) {
      more = true;
      return false;
    }
    entries.push({ event, index });
    return true;
  };
  if (query.direction === 'backwards') scanBackwards(events, query, visit);
  else scanForwards(events, query, visit);
  return { head, entries, more, stale: false };
}
