import type { Message, PresenceMessage } from '@encke/protocol';
import { randomAlnum } from '../../util/ids.js';
import { formatSerial, messageSerial } from '../serial.js';
import type { ChannelEvent, ChannelEventInput, ChannelHead, EventKind, HistoryPage, HistoryQuery, LogRetention, PublishOutcome, ReplayResult } from '../channel-store.js';
import { historyPage } from '../history.js';
import { diffPresence, synthesiseLeaves } from '../presence-set.js';

const NO_MEMBERS: ReadonlyMap<string, PresenceMessage> = new Map();

interface SeenId {
  serial: string;
  at: number;
}

/** One channel's state in the memory engine: epoch, sequence, bounded log, idempotency window, presence set. */
export class MemoryChannel {
  readonly epoch = randomAlnum(8);
  seq = 0;
  /** The presence set; null while nobody is present (most channels). */
  private memberMap: Map<string, PresenceMessage> | null = null;
  subscribed = false;
  touched: number;
  retention: LogRetention;
  private events: ChannelEvent[] = [];
  /** Message id → serial of recent idempotent publishes, oldest first; made on first use (~90 bytes a channel). */
  private seenIds: Map<string, SeenId> | null = null;
  private idWindow = 0;

  constructor(now: number, retention: LogRetention) {
    this.touched = now;
    this.retention = retention;
  }

  /** The presence set (an empty one while nobody is present). */
  get members(): ReadonlyMap<string, PresenceMessage> {
    return this.memberMap ?? NO_MEMBERS;
  }

  /** Whether the log holds events (after trimming). */
  get hasEvents(): boolean {
    return this.events.length > 0;
  }

  head(): ChannelHead {
    return { epoch: this.epoch, seq: this.seq, serial: formatSerial(this.epoch, this.seq) };
  }

  isEmpty(): boolean {
    return this.events.length === 0 && (this.seenIds?.size ?? 0) === 0 && this.memberMap === null;
  }

  /** Appends an event with the next serial. */
  private appendEvent(input: ChannelEventInput, now: number): ChannelEvent {
    this.touched = now;
    const seq = ++this.seq;
    const event: ChannelEvent = { ...input, seq, serial: formatSerial(this.epoch, seq) };
    this.events.push(event);
    return event;
  }

  applyPresence(input: ChannelEventInput, now: number, maxMembers: number): ChannelEvent | null {
    const diff = diffPresence(this.members, input.presence ?? [], maxMembers);
    const members = (this.memberMap ??= new Map());
    for (const [key, member] of diff.upserts) members.set(key, member);
    for (const key of diff.removals) members.delete(key);
    if (members.size === 0) this.memberMap = null;
    if (diff.effective.length === 0) return null;
    return this.appendEvent({ ...input, presence: diff.effective }, now);
  }

  leaveConnection(connectionId: string, timestamp: number, now: number): ChannelEvent | null {
    const leaving: PresenceMessage[] = [];
    const members = this.memberMap;
    if (!members) return null;
    for (const [key, m] of members) {
      if (m.connectionId !== connectionId) continue;
      leaving.push(m);
      members.delete(key);
    }
    if (members.size === 0) this.memberMap = null;
    if (leaving.length === 0) return null;
    return this.appendEvent({ kind: 'presence', timestamp, presence: synthesiseLeaves(leaving, timestamp, randomAlnum(12)) }, now);
  }

  append(input: ChannelEventInput, now: number, idempotencyWindow: number, retention?: LogRetention): PublishOutcome {
    this.touched = now;
    if (retention) this.retention = retention;
    const all = input.messages;
    const dupes = idempotencyWindow > 0 && all ? this.findDuplicates(all, now, idempotencyWindow) : null;
    const fresh = dupes && all ? all.filter((_, i) => dupes[i] === undefined) : all;
    if (dupes && fresh?.length === 0) return { event: null, serials: dupes as string[] };
    const event = this.appendEvent(fresh ? { ...input, messages: fresh } : input, now);
    if (fresh) {
      for (let i = 0; i < fresh.length; i++) {
        const msg = fresh[i]!;
        msg.serial = messageSerial(event.serial, i);
        if (idempotencyWindow > 0 && msg.id !== undefined) (this.seenIds ??= new Map()).set(msg.id, { serial: msg.serial, at: now });
      }
    }
    const serials = all ? all.map((m, i) => dupes?.[i] ?? m.serial!) : [];
    return { event, serials };
  }

  /** For each message, the serial of an earlier publish with the same id within the window, if any. */
  private findDuplicates(messages: readonly Message[], now: number, window: number): (string | undefined)[] | null {
    this.idWindow = Math.max(this.idWindow, window);
    this.trimIds(now);
    let found: (string | undefined)[] | null = null;
    for (let i = 0; i < messages.length; i++) {
      const id = messages[i]!.id;
      const seen = id === undefined ? undefined : this.seenIds?.get(id);
      if (seen && now - seen.at <= window) (found ??= new Array<string | undefined>(messages.length))[i] = seen.serial;
    }
    return found;
  }

  trim(now: number): void {
    const { maxCount, maxAge } = this.retention;
    const events = this.events;
    let drop = Math.max(0, events.length - maxCount);
    while (drop < events.length && now - events[drop]!.timestamp > maxAge) drop++;
    if (drop > 0) this.events = events.slice(drop);
    this.trimIds(now);
  }

  private trimIds(now: number): void {
    const ids = this.seenIds;
    if (!ids) return;
    for (const [id, seen] of ids) {
      if (now - seen.at <= this.idWindow) break;
      ids.delete(id);
    }
  }

  readAfter(epoch: string, seq: number, limit: number): ReplayResult {
    if (epoch !== this.epoch || seq > this.seq) return { events: [], complete: false };
    const oldest = this.events.length > 0 ? this.events[0]!.seq : this.seq + 1;
    if (seq + 1 < oldest) return { events: [], complete: false };
    const start = this.indexAfter(seq);
    return { events: this.events.slice(start, start + limit), complete: true };
  }

  readLast(kind: EventKind, count: number, since?: number): ChannelEvent[] {
    const out: ChannelEvent[] = [];
    for (let i = this.events.length - 1; i >= 0 && out.length < count; i--) {
      const event = this.events[i]!;
      if (since !== undefined && event.timestamp < since) break;
      if (event.kind === kind) out.push(event);
    }
    return out.reverse();
  }

  /** A page of history (see HistoryQuery). */
  history(query: HistoryQuery): HistoryPage {
    return historyPage(this.events, this.head(), query);
  }

  /** Index of the first event with seq > `seq` (binary search; seqs are increasing). */
  private indexAfter(seq: number): number {
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.events[mid]!.seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
