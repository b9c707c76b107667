/**
 * History pages over a channel's log (oldest event first), shared by every engine so that paging
 * behaves the same whatever holds the log. Positions are (event seq, item index); a page continues
 * strictly past `after` and never beyond `untilSeq`, so nothing is skipped or repeated while new
 * events arrive.
 */
import type { ChannelEvent, ChannelHead, EventKind, HistoryEntry, HistoryPage, HistoryQuery } from './channel-store.js';

function itemCount(event: ChannelEvent, kind: EventKind): number {
  return (kind === 'message' ? event.messages?.length : event.presence?.length) ?? 0;
}

function matches(event: ChannelEvent, query: HistoryQuery): boolean {
  return (
    event.kind === query.kind &&
    (query.start === undefined || event.timestamp >= query.start) &&
    (query.end === undefined || event.timestamp <= query.end)
  );
}

/** Index of the first event with seq > `seq` (binary search; seqs increase). */
function indexAfter(events: readonly ChannelEvent[], seq: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid]!.seq <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

type Visit = (event: ChannelEvent, index: number) => boolean;

function scanBackwards(events: readonly ChannelEvent[], query: HistoryQuery, visit: Visit): void {
  const after = query.after;
  const topSeq = Math.min(query.untilSeq ?? Infinity, after ? after.seq : Infinity);
  for (let i = indexAfter(events, topSeq) - 1; i >= 0; i--) {
    const event = events[i]!;
    if (!matches(event, query)) continue;
    let index = itemCount(event, query.kind) - 1;
    if (after && event.seq === after.seq) index = Math.min(index, after.index - 1);
    for (; index >= 0; index--) if (!visit(event, index)) return;
  }
}

function scanForwards(events: readonly ChannelEvent[], query: HistoryQuery, visit: Visit): void {
  const after = query.after;
  const untilSeq = query.untilSeq ?? Infinity;
  for (let i = after ? indexAfter(events, after.seq - 1) : 0; i < events.length; i++) {
    const event = events[i]!;
    if (event.seq > untilSeq) return;
    if (!matches(event, query)) continue;
    const count = itemCount(event, query.kind);
    for (let index = after && event.seq === after.seq ? after.index + 1 : 0; index < count; index++) {
      if (!visit(event, index)) return;
    }
  }
}

/** A page of `query` over `events` (the whole retained log of a channel whose head is `head`). */
export function historyPage(events: readonly ChannelEvent[], head: ChannelHead, query: HistoryQuery): HistoryPage {
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
