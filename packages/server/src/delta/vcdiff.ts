/**
 * A VCDIFF (RFC 3284) encoder: `vcdiffEncode(source, target)` is a delta that rebuilds `target` from
 * `source`. It writes what `@ably/vcdiff-decoder` (the ably-js delta plugin) reads: the header
 * without secondary compression or a custom code table, and windows whose source segment is the
 * whole source, with no checksum.
 *
 * Matching: a rolling hash of every MATCH_WINDOW-byte run in the source, and of the target already
 * encoded in the window, indexes candidate positions (chains capped at MAX_CANDIDATES); the longest
 * candidate wins, extended backwards over bytes not yet written. Repeated bytes become RUNs.
 * Anything unmatched is ADDed.
 */
import { WindowCoder, ByteWriter } from './vcdiff-code.js';

export interface VcdiffOptions {
  /** Most target bytes per window. @default 1 MiB */
  windowSize?: number;
}

/** "VCD" with the high bits set, then version 0 (RFC 3284 §4.1). */
const MAGIC = [0xd6, 0xc3, 0xc4, 0x00];
const HDR_INDICATOR = 0x00;
const VCD_SOURCE = 0x01;
const DELTA_INDICATOR = 0x00;
const DEFAULT_WINDOW = 1 << 20;
/** The decoder reads integers into 32-bit ints: keep every length and address well below 2^31. */
export const MAX_VCDIFF_INPUT = 1 << 28;

/** Bytes hashed per position; also the shortest COPY the default code table has opcodes for. */
const MATCH_WINDOW = 4;
const MAX_CANDIDATES = 16;
const MIN_RUN = 4;
const HASH_MUL = 0x01000193;
/** HASH_MUL ** MATCH_WINDOW, to drop the outgoing byte from a rolling hash. */
const HASH_OUT = Math.imul(Math.imul(HASH_MUL, HASH_MUL), Math.imul(HASH_MUL, HASH_MUL));

/** Hash of the MATCH_WINDOW bytes at `pos`. */
function hashAt(bytes: Uint8Array, pos: number): number {
  let h = 0;
  for (let i = 0; i < MATCH_WINDOW; i++) h = (Math.imul(h, HASH_MUL) + bytes[pos + i]!) | 0;
  return h;
}

/** The hash of the window starting one byte later. */
function roll(h: number, out: number, incoming: number): number {
  return (Math.imul(h, HASH_MUL) - Math.imul(out, HASH_OUT) + incoming) | 0;
}

/** Candidate positions by hash: `head[bucket]` is the latest position, `prev[pos]` the one before. */
class HashChains {
  readonly head: Int32Array;
  readonly prev: Int32Array;
  private readonly shift: number;

  constructor(positions: number) {
    let bits = 8;
    while (1 << bits < positions * 2 && bits < 20) bits++;
    this.head = new Int32Array(1 << bits).fill(-1);
    this.prev = new Int32Array(Math.max(positions, 1));
    this.shift = 32 - bits;
  }

  bucket(h: number): number {
    return Math.imul(h, 0x9e3779b1) >>> this.shift;
  }

  insert(h: number, pos: number): void {
    const b = this.bucket(h);
    this.prev[pos] = this.head[b]!;
    this.head[b] = pos;
  }
}

/** Indexes every MATCH_WINDOW-byte run of the source with one rolling hash pass. */
function indexSource(source: Uint8Array): HashChains {
  const chains = new HashChains(source.length);
  if (source.length < MATCH_WINDOW) return chains;
  let h = hashAt(source, 0);
  chains.insert(h, 0);
  for (let pos = 1; pos + MATCH_WINDOW <= source.length; pos++) {
    h = roll(h, source[pos - 1]!, source[pos + MATCH_WINDOW - 1]!);
    chains.insert(h, pos);
  }
  return chains;
}

interface Match {
  /** Where the match starts in the target (may move back over unwritten bytes). */
  start: number;
  length: number;
  /** Address in the window's U (source segment, then target window). */
  address: number;
}

/** Encodes one target window at a time against the whole source. */
class Encoder {
  private readonly sourceChains: HashChains;
  private readonly coder = new WindowCoder();
  private targetChains: HashChains;

  constructor(
    private readonly source: Uint8Array,
    private readonly target: Uint8Array,
    windowSize: number,
  ) {
    this.sourceChains = indexSource(source);
    this.targetChains = new HashChains(Math.min(windowSize, target.length));
  }

  /** Longest match for target[pos…] among source and earlier-target candidates; `from` bounds backward extension. */
  private findMatch(pos: number, h: number, from: number, winStart: number, winEnd: number): Match | undefined {
    const { source, target } = this;
    let best: Match | undefined;
    const consider = (start: number, length: number, address: number): void => {
      if (!best || length > best.length) best = { start, length, address };
    };
    let n = 0;
    for (
      let cand = this.sourceChains.head[this.sourceChains.bucket(h)]!;
      cand >= 0 && n < MAX_CANDIDATES;
      cand = this.sourceChains.prev[cand]!, n++
    ) {
      let len = 0;
      while (pos + len < winEnd && cand + len < source.length && source[cand + len] === target[pos + len]) len++;
      if (len < MATCH_WINDOW) continue;
      let back = 0;
      while (pos - back > from && cand - back > 0 && source[cand - back - 1] === target[pos - back - 1]) back++;
      consider(pos - back, len + back, cand - back);
    }
    n = 0;
    const chains = this.targetChains;
    for (let rel = chains.head[chains.bucket(h)]!; rel >= 0 && n < MAX_CANDIDATES; rel = chains.prev[rel]!, n++) {
      const cand = winStart + rel;
      let len = 0;
      while (pos + len < winEnd && target[cand + len] === target[pos + len]) len++;
      if (len < MATCH_WINDOW) continue;
      let back = 0;
      while (pos - back > from && cand - back > winStart && target[cand - back - 1] === target[pos - back - 1]) back++;
      consider(pos - back, len + back, source.length + (cand - back - winStart));
    }
    return best;
  }

  /** Writes the instructions for target[winStart, winEnd) into the coder's sections. */
  private encodeWindow(winStart: number, winEnd: number): void {
    const { target, coder } = this;
    const base = this.source.length - winStart; // U address of target[i] is base + i
    this.targetChains.head.fill(-1);
    let pending = winStart; // first byte not yet covered by an instruction
    let pos = winStart;
    let h = 0;
    let hashed = false;
    while (pos + MATCH_WINDOW <= winEnd) {
      if (!hashed) h = hashAt(target, pos);
      hashed = true;
      const run = runLength(target, pos, winEnd);
      const m = this.findMatch(pos, h, pending, winStart, winEnd);
      const copyPays = m !== undefined && m.length > coder.addressCost(m.address, base + m.start) + 1;
      if (run >= MIN_RUN && (m === undefined || !copyPays || run >= m.length)) {
        if (pending < pos) coder.add(target, pending, pos);
        coder.run(target[pos]!, run);
        pos = pending = this.skip(pos, pos + run, winStart, winEnd);
        hashed = false;
      } else if (m !== undefined && copyPays) {
        if (pending < m.start) coder.add(target, pending, m.start);
        coder.copy(m.address, base + m.start, m.length);
        pos = pending = this.skip(pos, m.start + m.length, winStart, winEnd);
        hashed = false;
      } else {
        this.targetChains.insert(h, pos - winStart);
        if (pos + MATCH_WINDOW < winEnd) h = roll(h, target[pos]!, target[pos + MATCH_WINDOW]!);
        else hashed = false;
        pos++;
      }
    }
    if (pending < winEnd) coder.add(target, pending, winEnd);
    coder.flush();
  }

  /** Indexes the positions a COPY or RUN covered (so later bytes can copy from them) and returns `to`. */
  private skip(from: number, to: number, winStart: number, winEnd: number): number {
    const { target } = this;
    for (let p = from; p < to && p + MATCH_WINDOW <= winEnd; p++)
      this.targetChains.insert(hashAt(target, p), p - winStart);
    return to;
  }

  encode(windowSize: number): Uint8Array {
    const out = new ByteWriter(Math.min(this.target.length, 1024) + 32);
    for (const b of MAGIC) out.byte(b);
    out.byte(HDR_INDICATOR);
    let winStart = 0;
    do {
      const winEnd = Math.min(winStart + windowSize, this.target.length);
      this.coder.reset();
      this.encodeWindow(winStart, winEnd);
      this.writeWindow(out, winEnd - winStart);
      winStart = winEnd;
    } while (winStart < this.target.length);
    return out.finish();
  }

  /** The window header and its delta encoding (RFC 3284 §4.2, §4.3). */
  private writeWindow(out: ByteWriter, targetLength: number): void {
    const { data, inst, addr } = this.coder;
    const body = new ByteWriter(16);
    body.varint(targetLength);
    body.byte(DELTA_INDICATOR);
    body.varint(data.length);
    body.varint(inst.length);
    body.varint(addr.length);
    if (this.source.length > 0) {
      out.byte(VCD_SOURCE);
      out.varint(this.source.length);
      out.varint(0);
    } else {
      out.byte(0);
    }
    out.varint(body.length + data.length + inst.length + addr.length);
    out.append(body);
    out.append(data);
    out.append(inst);
    out.append(addr);
  }
}

/** Length of the run of equal bytes starting at `pos` (1 when the next byte differs). */
function runLength(bytes: Uint8Array, pos: number, end: number): number {
  const b = bytes[pos];
  let n = 1;
  while (pos + n < end && bytes[pos + n] === b) n++;
  return n;
}

/** A VCDIFF delta from `source` to `target`. Throws RangeError for inputs past MAX_VCDIFF_INPUT. */
export function vcdiffEncode(source: Uint8Array, target: Uint8Array, options: VcdiffOptions = {}): Uint8Array {
  if (source.length > MAX_VCDIFF_INPUT || target.length > MAX_VCDIFF_INPUT) {
    throw new RangeError(`vcdiff inputs are limited to ${MAX_VCDIFF_INPUT} bytes`);
  }
  const windowSize = Math.max(MATCH_WINDOW, Math.min(options.windowSize ?? DEFAULT_WINDOW, MAX_VCDIFF_INPUT));
  return new Encoder(source, target, windowSize).encode(windowSize);
}
