/**
 * S8's load (issue 14, delta compression): a stream of 1 KB JSON documents, each differing from the
 * one before by about 5% of its bytes, published on one channel; and the subscribers' side, which
 * turns every delivery back into the document (applying VCDIFF deltas with @ably/vcdiff-decoder,
 * as the ably-js plugin does) and checks it byte for byte against what was published.
 *
 * A document is ASCII JSON of exactly DOCUMENT_BYTES bytes with fixed-width fields (numbers padded
 * with spaces, which JSON allows), so that a change rewrites bytes in place:
 *
 *   {"seq":         7,"at":"~BM0000001234567~","items":[{"sym":"S00","px": 1234.5678,"qty": 1234567},…],"pad":"…"}
 *
 * Each message rewrites `seq`, `at` (the send-time marker the generator's sink reads, see
 * payload.ts) and the price and quantity of CHANGED_ITEMS of the ITEMS items, chosen and valued by
 * a seeded generator. The share of bytes that really differ from the previous document is measured
 * as the stream runs and reported with the results.
 */
import * as vcdiff from '@ably/vcdiff-decoder';
import { Action } from '@encke/protocol';
import type { DocumentMessage, ServerFrame } from './clients/server-frame.js';
import type { Sink } from './payload.js';

export const DOCUMENT_BYTES = 1024;
const ITEMS = 20;
/** Items rewritten per message: with `seq` and `at`, about 5% of the document's bytes differ. */
const CHANGED_ITEMS = 4;
const SEQ_WIDTH = 10;
/** `~BM` + 13 digits + `~`, as makePayload writes it with a size of STAMP_WIDTH. */
export const STAMP_WIDTH = 17;
const PX_WIDTH = 10;
const QTY_WIDTH = 8;
const PX_SCALE = 10_000;
const PX_DECIMALS = 4;
const QTY_LIMIT = 10_000_000;
/** Published documents kept for checking: far more than a subscriber may lag behind. */
const KEPT = 16_384;
const SEED = 0x5eed14;
/**
 * Distinct (delta, base) decodes remembered (see Documents.undoDelta), the oldest forgotten first:
 * more than the subscribers drift apart in a ramp's overloaded step (each reads its own backlog).
 */
const DECODED_KEPT = 4096;
export const DELTA_FORMAT = 'vcdiff';

/** mulberry32: a small seeded generator, so that every run publishes the same changes. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Layout {
  seq: number;
  at: number;
  px: number[];
  qty: number[];
}

/** The first document and where its changing fields are. */
function firstDocument(random: () => number): { doc: Buffer; layout: Layout } {
  let text = `{"seq":${'0'.padStart(SEQ_WIDTH)},"at":"${'~'.repeat(STAMP_WIDTH)}","items":[`;
  const layout: Layout = { seq: '{"seq":'.length, at: 0, px: [], qty: [] };
  layout.at = text.indexOf('"at":"') + '"at":"'.length;
  for (let i = 0; i < ITEMS; i++) {
    text += `${i === 0 ? '' : ','}{"sym":"S${String(i).padStart(2, '0')}","px":`;
    layout.px.push(text.length);
    text += `${price(random)},"qty":`;
    layout.qty.push(text.length);
    text += `${quantity(random)}}`;
  }
  text += '],"pad":"';
  const tail = '"}';
  const pad = DOCUMENT_BYTES - text.length - tail.length;
  if (pad < 0) throw new Error('documents: the fields do not fit in DOCUMENT_BYTES');
  return { doc: Buffer.from(text + '.'.repeat(pad) + tail, 'latin1'), layout };
}

function price(random: () => number): string {
  return (random() * PX_SCALE).toFixed(PX_DECIMALS).padStart(PX_WIDTH);
}

function quantity(random: () => number): string {
  return String(Math.floor(random() * QTY_LIMIT)).padStart(QTY_WIDTH);
}

/** The sequence number of a document (its first field), or -1 when it is not one of ours. */
export function seqOf(doc: Uint8Array): number {
  let seq = 0;
  let digits = 0;
  for (let i = '{"seq":'.length; i < '{"seq":'.length + SEQ_WIDTH && i < doc.length; i++) {
    const c = doc[i]!;
    if (c === 0x20) continue;
    if (c < 0x30 || c > 0x39) return -1;
    seq = seq * 10 + (c - 0x30);
    digits++;
  }
  return digits === 0 ? -1 : seq;
}

/** The publisher's documents: each one the previous with a few fields rewritten. */
class DocumentStream {
  private readonly random = seeded(SEED);
  private readonly doc: Buffer;
  private readonly layout: Layout;
  private seq = -1;
  private changedBytes = 0;
  private compared = 0;

  constructor() {
    ({ doc: this.doc, layout: this.layout } = firstDocument(this.random));
  }

  /** Mean share of bytes that differ between consecutive documents. */
  get changedShare(): number {
    return this.compared === 0 ? 0 : this.changedBytes / (this.compared * DOCUMENT_BYTES);
  }

  /** The next document, stamped with `stamp` (STAMP_WIDTH characters); a copy the caller may keep. */
  next(stamp: string): { seq: number; doc: Buffer } {
    const before = this.seq >= 0 ? Buffer.from(this.doc) : undefined;
    const { doc, layout, random } = this;
    this.seq++;
    doc.write(String(this.seq).padStart(SEQ_WIDTH), layout.seq, 'latin1');
    doc.write(stamp.slice(0, STAMP_WIDTH).padEnd(STAMP_WIDTH, '~'), layout.at, 'latin1');
    for (let k = 0; k < CHANGED_ITEMS; k++) {
      const item = Math.floor(random() * ITEMS);
      doc.write(price(random), layout.px[item]!, 'latin1');
      doc.write(quantity(random), layout.qty[item]!, 'latin1');
    }
    if (before) {
      for (let i = 0; i < DOCUMENT_BYTES; i++) if (before[i] !== doc[i]) this.changedBytes++;
      this.compared++;
    }
    return { seq: this.seq, doc: Buffer.from(doc) };
  }
}

/** What S8 reports about its documents (jobs.ts `JobResult.documents`). */
export interface DocumentsResult {
  /** Socket bytes read by the subscribers per delivery over the fixed-rate phase (frames, envelopes, HTTP chunks). */
  bytesPerDelivery: number;
  /** Share of the fixed-rate phase's deliveries that came as deltas. */
  deltaShare: number;
  /** Mean share of bytes that differ between consecutive documents. */
  changedShare: number;
  /** Deliveries turned back into documents and compared, over the whole case. */
  checked: number;
  /** Over the whole case: deliveries that could not be decoded, came out of order, or differed from what was published. */
  mismatches: number;
  /** Deliveries whose published copy was no longer kept (not compared). */
  unchecked: number;
  /** Deltas run through the decoder over the whole case (identical ones are decoded once). */
  decoderCalls: number;
}

/** Something that counts the bytes it read from its socket(s). */
export interface ByteMeter {
  readonly received: number;
}

interface Snapshot {
  bytes: number;
  delivered: number;
  deltas: number;
}

/**
 * The documents of one generator process: the publisher takes the next document from here, and
 * every subscriber connection checks what it receives against the copies kept here.
 */
export class Documents {
  private readonly stream = new DocumentStream();
  private readonly kept: (Buffer | undefined)[] = new Array<Buffer | undefined>(KEPT);
  private readonly keptSeq = new Float64Array(KEPT).fill(-1);
  private readonly meters: ByteMeter[] = [];
  private readonly decoded = new Map<string, { base: Uint8Array; doc: Uint8Array }>();
  /** Deltas run through the decoder (the others reused an identical decode, see undoDelta). */
  decoderCalls = 0;
  deltas = 0;
  checked = 0;
  mismatches = 0;
  unchecked = 0;

  constructor(private readonly sink: Sink) {}

  /** The document to publish for `stamp` (the payload the load made: its first STAMP_WIDTH characters). */
  next(stamp: string): string {
    const { seq, doc } = this.stream.next(stamp);
    this.kept[seq % KEPT] = doc;
    this.keptSeq[seq % KEPT] = seq;
    return doc.toString('latin1');
  }

  /** Counts a subscriber connection's socket bytes. */
  track(meter: ByteMeter): void {
    this.meters.push(meter);
  }

  /** A new subscriber connection's handler for MESSAGE protocol messages. */
  reader(): (pm: ServerFrame) => void {
    const chain = new DocumentChain(this);
    return (pm) => {
      if (pm.action !== Action.MESSAGE) return;
      for (const m of pm.messages ?? []) {
        const doc = chain.receive(m);
        if (doc) this.sink.scan(doc);
      }
    };
  }

  /**
   * The document a delta message carries, given the subscriber's `base`. Decoding is a pure function
   * of (delta, base), and the subscribers of a channel receive the same delta bytes against equal
   * bases, so a result is reused for a later subscriber whose delta bytes, encoding and `from` are
   * the same and whose base is byte-equal: the decoder runs once per distinct delta (about once per
   * message) instead of once per delivery, which would make the generator, not the server, the
   * limit (the decoder takes tens of microseconds per call). Every delivery's result is still
   * compared with the published document.
   */
  undoDelta(m: DocumentMessage, base: Uint8Array | undefined): Uint8Array {
    if (base === undefined) throw new Error('a delta without a base');
    const data = m.data;
    const key = `${String(m.delta?.from)}\n${m.encoding ?? ''}\n${typeof data === 'string' ? data : data instanceof Uint8Array ? Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1') : ''}`;
    const known = this.decoded.get(key);
    if (known && Buffer.from(known.base.buffer, known.base.byteOffset, known.base.byteLength).equals(base))
      return known.doc;
    const doc = decodeData(data, m.encoding, base);
    if (this.decoded.size >= DECODED_KEPT) this.decoded.delete(this.decoded.keys().next().value!);
    this.decoded.set(key, { base, doc });
    this.decoderCalls++;
    return doc;
  }

  /** Compares a received document with the published one. */
  verify(doc: Uint8Array, seq: number): void {
    const slot = seq % KEPT;
    if (seq < 0 || this.keptSeq[slot] !== seq) {
      if (seq < 0) this.mismatches++;
      else this.unchecked++;
      return;
    }
    this.checked++;
    if (!this.kept[slot]!.equals(doc)) this.mismatches++;
  }

  snapshot(): Snapshot {
    return {
      bytes: this.meters.reduce((sum, m) => sum + m.received, 0),
      delivered: this.sink.delivered,
      deltas: this.deltas,
    };
  }

  /** The result, with bytes and deltas per delivery since `from` (the fixed-rate phase). */
  result(from: Snapshot, to: Snapshot): DocumentsResult {
    const delivered = Math.max(1, to.delivered - from.delivered);
    return {
      bytesPerDelivery: (to.bytes - from.bytes) / delivered,
      deltaShare: (to.deltas - from.deltas) / delivered,
      changedShare: this.stream.changedShare,
      checked: this.checked,
      mismatches: this.mismatches,
      unchecked: this.unchecked,
      decoderCalls: this.decoderCalls,
    };
  }
}

/**
 * One subscriber connection's view of the channel: the last document it got (its delta base) and
 * that message's id. A delta must name that id in `extras.delta.from`; sequence numbers must follow
 * each other (nothing lost, nothing repeated, in order).
 */
class DocumentChain {
  private base: Uint8Array | undefined;
  private lastId: string | undefined;
  private lastSeq = -1;

  constructor(private readonly docs: Documents) {}

  /** The document `m` carries, or undefined (counted as a mismatch) when it cannot be decoded. */
  receive(m: DocumentMessage): Uint8Array | undefined {
    let doc: Uint8Array;
    try {
      const { delta } = m;
      if (delta !== undefined && (delta.format !== DELTA_FORMAT || delta.from !== this.lastId))
        throw new Error('a delta from another base');
      doc = delta === undefined ? decodeData(m.data, m.encoding, undefined) : this.docs.undoDelta(m, this.base);
      if (delta !== undefined) this.docs.deltas++;
    } catch {
      this.docs.mismatches++;
      this.base = undefined;
      this.lastId = undefined;
      return undefined;
    }
    this.base = doc;
    this.lastId = m.id;
    const seq = seqOf(doc);
    if (this.lastSeq >= 0 && seq !== this.lastSeq + 1) this.docs.mismatches++;
    else this.docs.verify(doc, seq);
    this.lastSeq = seq;
    return doc;
  }
}

/**
 * A message's data as the document's UTF-8 bytes, undoing its encoding steps from the last:
 * `base64` (JSON wire), `vcdiff` against `base` (only for a delta), `utf-8`, `json` (the text is the
 * document). Anything else is an error.
 */
export function decodeData(data: unknown, encoding: string | undefined, base: Uint8Array | undefined): Uint8Array {
  const steps = (encoding ?? '').split('/').filter((s) => s !== '');
  let value: unknown = data;
  while (steps.length > 0) {
    const step = steps.pop();
    if (step === 'base64' && typeof value === 'string') value = Buffer.from(value, 'base64');
    else if (step === DELTA_FORMAT && value instanceof Uint8Array && base !== undefined)
      value = vcdiff.decode(value, base);
    else if (step === 'utf-8' && value instanceof Uint8Array) continue;
    else if (step === 'json' && steps.length === 0) break;
    else throw new Error(`cannot undo ${step}`);
  }
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return value;
  throw new Error('no document in the message');
}
