import type { Message, PresenceMessage } from '@encke/protocol';
import { compactTime } from '../../util/compact-time.js';
import { randomAlnum } from '../../util/ids.js';
import {
  ChannelExtras,
  NO_MEMBERS,
  epochOf,
  nextChannelNumber,
  serialsOf,
  type Changes,
  type SeenId,
  type SeenIds,
} from './channel-parts.js';
import { formatSerial, messageSerial, parseMessageSerial } from '../serial.js';
import type {
  AmendInput,
  AmendOutcome,
  ChannelEvent,
  ChannelEventInput,
  ChannelHead,
  EventKind,
  HistoryPage,
  HistoryQuery,
  LogRetention,
  MessageChain,
  PublishOutcome,
  ReplayResult,
  StoredMessage,
} from '../channel-store.js';
import { historyPage } from '../history.js';
import {
  chainOf,
  historyView,
  isChainEvent,
  lastPublished,
  publishedMessage,
  stampSerials,
  storedMessage,
} from '../message-chain.js';
import { diffPresence, synthesiseLeaves } from '../presence-set.js';
import { storedEvent } from '../stored-event.js';
import { PackedLog } from './packed-log.js';

export { epochOf } from './channel-parts.js';

/** One channel's state in the memory engine: epoch, sequence, bounded log, idempotency window, presence set. */
export class MemoryChannel {
  /** The channel's number: its epoch is `epochOf(generation)`. */
  private readonly generation = nextChannelNumber();
  seq = 0;
  subscribed = false;
  /** When last used (compactTime: a small integer, not a heap number per channel). */
  private touched: number;
  retention: LogRetention;
  /**
   * The log, oldest first, as bytes (packed-log.ts: no scavenge copies a stored event); null while
   * empty (a channel that is only attached to has none, bench S3).
   */
  private log: PackedLog | null = null;
  /**
   * The presence set, remembered idempotent publishes and changed messages; null while the channel
   * has none of them (most channels): one field for three.
   */
  private extras: ChannelExtras | null = null;

  constructor(now: number, retention: LogRetention) {
    this.touched = compactTime(now);
    this.retention = retention;
  }

  /** This life of the channel's log (serial.ts). */
  get epoch(): string {
    return epochOf(this.generation);
  }

  /** The presence set; null while nobody is present (most channels). */
  private get memberMap(): Map<string, PresenceMessage> | null {
    return this.extras?.members ?? null;
  }
  private set memberMap(members: Map<string, PresenceMessage> | null) {
    this.setExtra('members', members);
  }

  /** Idempotent publishes remembered; made by the first message with an id. */
  private get seenIds(): SeenIds | null {
    return this.extras?.seenIds ?? null;
  }
  private set seenIds(ids: SeenIds | null) {
    this.setExtra('seenIds', ids);
  }

  /** Changed messages; null until the first change. */
  private get changes(): Changes | null {
    return this.extras?.changes ?? null;
  }
  private set changes(changes: Changes | null) {
    this.setExtra('changes', changes);
  }

  /** Sets one of the rare parts; the holder goes when the last of them does. */
  private setExtra<K extends keyof ChannelExtras>(key: K, value: ChannelExtras[K]): void {
    const extras = this.extras;
    if (extras === null) {
      if (value !== null) (this.extras = new ChannelExtras())[key] = value;
      return;
    }
    extras[key] = value;
    if (extras.members === null && extras.seenIds === null && extras.changes === null) this.extras = null;
  }

  /**
   * Writes the events kept since the last call as bytes (packed-log.ts `pack`): the store calls it
   * after the tick's fan-out; a read of the log does it first anyway.
   */
  pack(): void {
    this.log?.pack();
  }

  /** Events kept and not yet written as bytes. */
  get unpacked(): number {
    return this.log?.unpackedCount ?? 0;
  }

  /** Events in the log. */
  private get size(): number {
    return this.log?.length ?? 0;
  }

  /** Every event of the log, decoded (for changed messages' rare readers). */
  private get events(): readonly ChannelEvent[] {
    return this.log?.all() ?? [];
  }

  /** Marks the channel used at `now`. */
  touch(now: number): void {
    this.touched = compactTime(now);
  }

  /** ms since the channel was last used. */
  untouchedFor(now: number): number {
    return compactTime(now) - this.touched;
  }

  /** The presence set (an empty one while nobody is present). */
  get members(): ReadonlyMap<string, PresenceMessage> {
    return this.memberMap ?? NO_MEMBERS;
  }

  /** Whether the log holds events (after trimming). */
  get hasEvents(): boolean {
    return this.size > 0;
  }

  head(): ChannelHead {
    const epoch = this.epoch;
    return { epoch, seq: this.seq, serial: formatSerial(epoch, this.seq) };
  }

  isEmpty(): boolean {
    return (
      this.size === 0 &&
      (this.seenIds?.ids.size ?? 0) === 0 &&
      this.memberMap === null &&
      (this.changes?.chains ?? null) === null
    );
  }

  /** The event with the next serial, to be finished by the caller and then kept (`keep`). */
  private appendEvent(input: ChannelEventInput, now: number): ChannelEvent {
    this.touch(now);
    const seq = ++this.seq;
    return storedEvent(input, seq, formatSerial(this.epoch, seq));
  }

  /** Keeps a finished event, written as bytes after the tick's fan-out (`pack`): it must not change after this. */
  private keep(event: ChannelEvent): ChannelEvent {
    (this.log ??= new PackedLog()).push(event);
    return event;
  }

  applyPresence(input: ChannelEventInput, now: number, maxMembers: number): ChannelEvent | null {
    const diff = diffPresence(this.members, input.presence ?? [], maxMembers);
    const members = (this.memberMap ??= new Map<string, PresenceMessage>());
    for (const [key, member] of diff.upserts) members.set(key, member);
    for (const key of diff.removals) members.delete(key);
    if (members.size === 0) this.memberMap = null;
    if (diff.effective.length === 0) return null;
    const event = this.appendEvent(input, now);
    event.presence = diff.effective;
    return this.keep(event);
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
    return this.keep(
      this.appendEvent(
        { kind: 'presence', timestamp, presence: synthesiseLeaves(leaving, timestamp, randomAlnum(12)) },
        now,
      ),
    );
  }

  append(input: ChannelEventInput, now: number, idempotencyWindow: number, retention?: LogRetention): PublishOutcome {
    this.touch(now);
    if (retention) this.retention = retention;
    const all = input.messages;
    const dupes = idempotencyWindow > 0 && all ? this.findDuplicates(all, now, idempotencyWindow) : null;
    const fresh = dupes && all ? all.filter((_, i) => dupes[i] === undefined) : all;
    if (dupes && fresh?.length === 0) return { event: null, serials: serialsOf(all, dupes) };
    // The input is copied once (appendEvent, field by field: stored-event.ts).
    const event = this.appendEvent(input, now);
    if (fresh !== all) event.messages = fresh;
    if (fresh) {
      for (let i = 0; i < fresh.length; i++) {
        const msg = fresh[i]!;
        msg.serial = messageSerial(event.serial, i);
        if (idempotencyWindow > 0 && msg.id !== undefined)
          (this.seenIds ??= { ids: new Map<string, SeenId>(), window: idempotencyWindow }).ids.set(msg.id, {
            serial: msg.serial,
            at: now,
          });
      }
    }
    this.keep(event);
    return { event, serials: serialsOf(all, dupes) };
  }

  /** For each message, the serial of an earlier publish with the same id within the window, if any. */
  private findDuplicates(messages: readonly Message[], now: number, window: number): (string | undefined)[] | null {
    if (this.seenIds) this.seenIds.window = Math.max(this.seenIds.window, window);
    this.trimIds(now);
    let found: (string | undefined)[] | null = null;
    for (let i = 0; i < messages.length; i++) {
      const id = messages[i]!.id;
      const seen = id === undefined ? undefined : this.seenIds?.ids.get(id);
      if (seen && now - seen.at <= window) (found ??= new Array<string | undefined>(messages.length))[i] = seen.serial;
    }
    return found;
  }

  trim(now: number): void {
    const log = this.log;
    if (log) {
      const { maxCount, maxAge } = this.retention;
      let drop = Math.max(0, log.length - maxCount);
      while (drop < log.length && now - log.timestampAt(drop) > maxAge) drop++;
      if (drop > 0 && this.changes) this.forgetChains(this.changes, log.slice(0, drop), drop);
      // In place: the rings' start moves (packed-log.ts).
      if (drop === log.length) this.log = null;
      else if (drop > 0) log.drop(drop);
    }
    this.trimIds(now);
  }

  /** Messages whose original leaves the log take their chains along. */
  private forgetChains(changes: Changes, events: readonly ChannelEvent[], drop: number): void {
    const chains = changes.chains;
    for (let i = 0; i < drop; i++) {
      const e = events[i]!;
      if (isChainEvent(e)) changes.events--;
      else if (chains && e.kind === 'message') for (const m of e.messages ?? []) chains.delete(m.serial!);
    }
    if (chains?.size === 0) changes.chains = null;
    if (changes.chains === null && changes.events === 0) this.changes = null;
  }

  /** Chain events in the log (history and rewind then read through historyView). */
  private get chainEvents(): number {
    return this.changes?.events ?? 0;
  }

  /** The message published as `serial` in this channel's log, and its latest form. */
  message(serial: string): StoredMessage | null {
    const at = this.locate(serial);
    if (!at) return null;
    const token = this.changes?.chains?.get(serial);
    const latest = token === undefined ? undefined : this.eventAt(this.log?.indexOf(token) ?? -1);
    if (token !== undefined && !latest) return null;
    return storedMessage(at.message, at.seq, latest);
  }

  /** The event and message `serial` names, if the log holds it. */
  private locate(serial: string): { seq: number; index: number; at: number; message: Message } | undefined {
    const parsed = parseMessageSerial(serial);
    if (!parsed || parsed.epoch !== this.epoch) return undefined;
    const at = this.log?.indexOf(parsed.seq) ?? -1;
    const message = publishedMessage(this.eventAt(at), parsed.index);
    return message ? { seq: parsed.seq, index: parsed.index, at, message } : undefined;
  }

  /** Event `i` of the log, decoded; undefined for -1 (not found). */
  private eventAt(i: number): ChannelEvent | undefined {
    return i >= 0 && this.log ? this.log.at(i) : undefined;
  }

  /** Appends a change of message `input.serial` if its latest form is still `input.token`. */
  amend(input: AmendInput, now: number): AmendOutcome {
    const current = this.message(input.serial);
    if (!current) return 'gone';
    if (current.token !== input.token) return 'retry';
    this.touch(now);
    if (input.retention) this.retention = input.retention;
    const changes = (this.changes ??= { chains: null, events: 0 });
    const events = input.events.map((e) => {
      const event = this.appendEvent(e, now);
      stampSerials(event);
      if (isChainEvent(event)) changes.events++;
      return this.keep(event);
    });
    (changes.chains ??= new Map<string, number>()).set(input.serial, events[events.length - 1]!.seq);
    return { events };
  }

  /** The versions and annotations of message `serial`. */
  chain(serial: string): MessageChain | null {
    const at = this.locate(serial);
    return at && this.log ? chainOf(this.log.slice(at.at), serial, at.index) : null;
  }

  private trimIds(now: number): void {
    const seenIds = this.seenIds;
    if (!seenIds) return;
    const ids = seenIds.ids;
    for (const [id, seen] of ids) {
      if (now - seen.at <= seenIds.window) break;
      ids.delete(id);
    }
    if (ids.size === 0) this.seenIds = null;
  }

  readAfter(epoch: string, seq: number, limit: number): ReplayResult {
    if (epoch !== this.epoch || seq > this.seq) return { events: [], complete: false };
    const log = this.log;
    const oldest = log ? log.seqAt(0) : this.seq + 1;
    if (seq + 1 < oldest) return { events: [], complete: false };
    if (!log) return { events: [], complete: true };
    const start = log.indexAfter(seq);
    return { events: log.slice(start, start + limit), complete: true };
  }

  readLast(kind: EventKind, count: number, since?: number): ChannelEvent[] {
    // Changed messages show as they now stand, in the places of their originals.
    if (kind === 'message' && this.chainEvents > 0) return lastPublished(this.events, count, since);
    const out: ChannelEvent[] = [];
    const log = this.log;
    if (!log) return out;
    // Kinds and timestamps are read without decoding; only the events returned are decoded.
    for (let i = log.length - 1; i >= 0 && out.length < count; i--) {
      if (since !== undefined && log.timestampAt(i) < since) break;
      if (log.kindAt(i) === kind) out.push(log.at(i));
    }
    return out.reverse();
  }

  /** A page of history (see HistoryQuery). */
  history(query: HistoryQuery): HistoryPage {
    if (query.kind === 'message' && this.chainEvents > 0)
      return historyPage(historyView(this.events), this.head(), query);
    return historyPage(this.log ?? [], this.head(), query);
  }
}
