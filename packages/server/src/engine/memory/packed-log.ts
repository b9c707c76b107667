/**
 * A memory channel's log as bytes: each event serialized (V8's structured clone, `node:v8`) into
 * one byte ring per channel, with its seq, timestamp, kind and place in a ring of numbers beside it.
 *
 * Why (bench S7, issue 19): every event of a channel stays in its log for history, rewind and
 * resume (1,000 events or 2 minutes), so as JS objects each publish's event, messages, decoded
 * strings, ids and serials (~0.7 KB at 200-byte payloads) outlived the scavenge after it and the
 * one after that: copied once to survive and once to be promoted, ~60 events' worth per scavenge
 * at 1,000 subscribers. Kept as bytes in a buffer outside the JS heap, a stored event is copied by
 * no scavenge at all: the event object the fan-out uses dies young, as garbage does.
 *
 * Reading an event decodes it (a fresh object each time, deep-equal to the event stored: the
 * property test checks that over messages, presence, binary data and extras). Only what a read
 * asks for is decoded: a page of history, a rewind's last events, a resume's slice. Seqs, kinds
 * and timestamps are read from the number ring without decoding (trimming by age, binary search).
 *
 * Both rings grow by doubling when full, copying what they hold; the byte ring's events are never
 * split at its end (an event that does not fit there starts at 0).
 *
 * An event is written as bytes when the store packs it (`pack`: after the fan-out of the tick that
 * published it, bench S7: v8's serializer, ~33k instructions a publish, then no longer delays the
 * first subscriber's write) or when a reader needs its bytes, whichever is first: until then the log
 * holds the event object itself, already counted (seq, timestamp, kind) in the number ring, so that
 * trimming and seq searches do not pack it. Every read of an event's contents packs first, so no
 * reader can tell when an event was packed; what is kept is the event as it stands when packed (the
 * memory channel changes no event once it has kept it).
 */
import { deserialize, serialize } from 'node:v8';
import { isPlainObject } from '@encke/protocol';
import type { ChannelEvent, EventKind } from '../channel-store.js';

/** V8's deserializer typed as what it gives back here: a value checked before use (`isEvent`). */
const deserializeValue: (bytes: Buffer) => unknown = deserialize;

const KINDS: readonly EventKind[] = ['message', 'presence', 'annotation'];
/** Numbers kept per event: seq, timestamp, kind, byte start, byte length. */
const STRIDE = 5;
const SEQ = 0;
const TIME = 1;
const KIND = 2;
const START = 3;
const LENGTH = 4;
/** Events the number ring holds at first (a power of two: ring positions are masked). */
const FIRST_EVENTS = 16;
/** Bytes the byte ring holds at first, unless the first event needs more. */
const FIRST_BYTES = 1024;

function kindCode(kind: EventKind): number {
  return kind === 'message' ? 0 : kind === 'presence' ? 1 : 2;
}

/** What a decoded event must be (its bytes were written by `push`; checked, not cast). */
function isEvent(value: unknown): value is ChannelEvent {
  return (
    isPlainObject(value) &&
    typeof value.seq === 'number' &&
    typeof value.serial === 'string' &&
    typeof value.timestamp === 'number' &&
    (value.kind === 'message' || value.kind === 'presence' || value.kind === 'annotation')
  );
}

export class PackedLog {
  /** The number ring: STRIDE numbers per event; off the JS heap (a typed array's own store). */
  private index = new Float64Array(FIRST_EVENTS * STRIDE);
  /** Ring position of the oldest event. */
  private head = 0;
  private count = 0;
  /** The byte ring. */
  private bytes: Buffer;
  /** Where the next event's bytes go. */
  private writeAt = 0;
  /** Events `0` to `packed - 1` are bytes; the newer ones are the objects in `unpacked`, oldest first. */
  private packed = 0;
  /** The newest events, not yet written as bytes (`pack`); null when there are none. */
  private unpacked: ChannelEvent[] | null = null;
  /**
   * Every event decoded, once a reader has asked for the whole log (`all`: a channel with changed
   * messages, whose history and rewind fold every change into its original), then kept in step by
   * `push` and `drop`: such readers come again and again (each attach with rewind, each history
   * page), and decoding a full log for each would cost ~4 µs an event, a thousand events a read.
   */
  private decoded: ChannelEvent[] | null = null;

  constructor(firstBytes = FIRST_BYTES) {
    this.bytes = Buffer.allocUnsafeSlow(firstBytes);
  }

  /** Events held. */
  get length(): number {
    return this.count;
  }

  /** Bytes reserved for events (the byte ring's size). */
  get capacity(): number {
    return this.bytes.length;
  }

  private slot(i: number): number {
    return ((this.head + i) & (this.index.length / STRIDE - 1)) * STRIDE;
  }

  seqAt(i: number): number {
    return this.index[this.slot(i) + SEQ]!;
  }

  timestampAt(i: number): number {
    return this.index[this.slot(i) + TIME]!;
  }

  kindAt(i: number): EventKind {
    return KINDS[this.index[this.slot(i) + KIND]!]!;
  }

  /** Events not yet written as bytes (`pack` writes them). */
  get unpackedCount(): number {
    return this.count - this.packed;
  }

  /** Event `i` (0 is the oldest), decoded: a new object, deep-equal to the one stored. */
  at(i: number): ChannelEvent {
    if (i >= this.packed) this.pack();
    const s = this.slot(i);
    const start = this.index[s + START]!;
    // Decoded from a copy: V8's deserializer makes binary data (Uint8Array, Buffer) views of the
    // bytes it reads, and the ring's bytes are written over once the event leaves the log.
    const value = deserializeValue(Buffer.from(this.bytes.subarray(start, start + this.index[s + LENGTH]!)));
    if (!isEvent(value)) throw new Error('channel log: an event did not decode');
    return value;
  }

  /** Events `start` to `end` (exclusive), decoded, oldest first. */
  slice(start: number, end = this.count): ChannelEvent[] {
    const from = Math.max(0, start);
    const to = Math.min(this.count, end);
    const out: ChannelEvent[] = [];
    for (let i = from; i < to; i++) out.push(this.at(i));
    return out;
  }

  /**
   * Every event, decoded, oldest first (for the readers that need the whole log: changed messages).
   * The same array from call to call while the log holds it (`decoded`): read it, never change it.
   */
  all(): readonly ChannelEvent[] {
    return (this.decoded ??= this.slice(0));
  }

  /** Index of the first event with seq > `seq` (binary search; seqs increase). */
  indexAfter(seq: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqAt(mid) <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the event at `seq`, or -1. */
  indexOf(seq: number): number {
    const i = this.indexAfter(seq) - 1;
    return i >= 0 && this.seqAt(i) === seq ? i : -1;
  }

  /**
   * Appends `event` (its seq greater than every seq held), finished: the log keeps its bytes, not
   * the object, written by `pack` (or the first read, whichever comes first).
   */
  push(event: ChannelEvent): void {
    if (this.count * STRIDE === this.index.length) this.growIndex();
    const s = this.slot(this.count++);
    const index = this.index;
    index[s + SEQ] = event.seq;
    index[s + TIME] = event.timestamp;
    index[s + KIND] = kindCode(event.kind);
    (this.unpacked ??= []).push(event);
    // Decoded from its bytes, as every read is (the caller's object may change after the push).
    if (this.decoded !== null) this.decoded.push(this.at(this.count - 1));
  }

  /** Writes the events pushed since the last pack as bytes (oldest first); the log then holds no object of them. */
  pack(): void {
    const events = this.unpacked;
    if (events === null) return;
    let i = 0;
    try {
      for (; i < events.length; i++) this.write(events[i]!);
    } finally {
      // (An event the serializer refused stays an object, with those after it.)
      if (i === events.length) this.unpacked = null;
      else events.splice(0, i);
    }
  }

  /** Writes `event`, the oldest not packed, into the byte ring. */
  private write(event: ChannelEvent): void {
    const encoded = serialize(event);
    const at = this.place(encoded.length);
    // (A typed array copy: Buffer.prototype.copy runs JavaScript argument checks first, ~3k instructions.)
    this.bytes.set(encoded, at);
    this.writeAt = at + encoded.length;
    const s = this.slot(this.packed++);
    this.index[s + START] = at;
    this.index[s + LENGTH] = encoded.length;
  }

  /** Drops the `n` oldest events (those not packed yet are never written). */
  drop(n: number): void {
    const k = Math.min(n, this.count);
    this.head = (this.head + k) & (this.index.length / STRIDE - 1);
    this.count -= k;
    if (k <= this.packed) this.packed -= k;
    else {
      this.unpacked!.splice(0, k - this.packed);
      this.packed = 0;
    }
    this.decoded?.splice(0, k);
    if (this.count === 0) {
      this.head = 0;
      this.writeAt = 0;
      this.decoded = null;
      this.unpacked = null;
    }
  }

  /** Where `size` bytes go: after the newest event, at 0 if they do not fit at the end, or in a larger ring. */
  private place(size: number): number {
    if (this.packed === 0) {
      if (size > this.bytes.length) this.bytes = Buffer.allocUnsafeSlow(Math.max(size, 2 * this.bytes.length));
      return 0;
    }
    const first = this.index[this.slot(0) + START]!;
    const end = this.writeAt;
    if (end > first) {
      // Not wrapped: free after the newest event, and before the oldest one.
      if (size <= this.bytes.length - end) return end;
      if (size < first) return 0;
    } else if (size < first - end) return end; // wrapped: free between the newest and the oldest
    this.growBytes(size);
    return this.writeAt;
  }

  /** A byte ring of at least twice the bytes held and room for `size` more, the events copied in order from 0. */
  private growBytes(size: number): void {
    let held = 0;
    for (let i = 0; i < this.packed; i++) held += this.index[this.slot(i) + LENGTH]!;
    const next = Buffer.allocUnsafeSlow(Math.max(2 * this.bytes.length, 2 * (held + size)));
    let at = 0;
    for (let i = 0; i < this.packed; i++) {
      const s = this.slot(i);
      const start = this.index[s + START]!;
      const length = this.index[s + LENGTH]!;
      this.bytes.copy(next, at, start, start + length);
      this.index[s + START] = at;
      at += length;
    }
    this.bytes = next;
    this.writeAt = at;
  }

  /** A number ring twice as large, the events moved to its start in order. */
  private growIndex(): void {
    const next = new Float64Array(this.index.length * 2);
    for (let i = 0; i < this.count; i++) {
      const s = this.slot(i);
      next.set(this.index.subarray(s, s + STRIDE), i * STRIDE);
    }
    this.index = next;
    this.head = 0;
  }
}
