/**
 * The instruction coding of VCDIFF (RFC 3284 §5): integers, the three sections of a window (data,
 * instructions, addresses), the address caches, and the default code table (§5.6), including its
 * paired ADD+COPY and COPY+ADD opcodes. The matcher in vcdiff.ts decides what to say; this module
 * decides how to write it.
 */

/** A growable byte buffer. */
export class ByteWriter {
  private buf: Uint8Array;
  length = 0;

  constructor(initial = 64) {
    this.buf = new Uint8Array(initial);
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.length++] = b;
  }

  bytes(src: Uint8Array, start: number, end: number): void {
    this.ensure(end - start);
    this.buf.set(src.subarray(start, end), this.length);
    this.length += end - start;
  }

  /** An RFC 3284 §2 integer: base 128, most significant digit first, high bit set on all but the last. */
  varint(n: number): void {
    const size = varintSize(n);
    this.ensure(size);
    for (let i = size - 1; i >= 0; i--) {
      this.buf[this.length + i] = (n & 0x7f) | (i === size - 1 ? 0 : 0x80);
      n = Math.floor(n / 128);
    }
    this.length += size;
  }

  append(other: ByteWriter): void {
    this.bytes(other.buf, 0, other.length);
  }

  reset(): void {
    this.length = 0;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Address modes of the default cache sizes (s_near = 4, s_same = 3). */
const NEAR_SIZE = 4;
const SAME_SIZE = 3;
const MODE_SELF = 0;
const MODE_HERE = 1;
const MODE_NEAR = 2;
const MODE_SAME = MODE_NEAR + NEAR_SIZE;
const SAME_SLOTS = SAME_SIZE * 256;

/** Opcodes of the default code table (RFC 3284 §5.6). */
const OP_RUN = 0;
const OP_ADD = 1;
const OP_COPY = 19;
const OP_ADD_COPY = 163;
const OP_ADD_COPY4_SAME = 235;
const OP_COPY4_ADD1 = 247;
/** Sizes that fit in an opcode: ADD 1–17, COPY 4–18. */
const MAX_ADD_IN_OPCODE = 17;
const MIN_COPY = 4;
const MAX_COPY_IN_OPCODE = 18;

type Pending = { kind: 'none' } | { kind: 'add'; size: number } | { kind: 'copy'; size: number; mode: number };
const NONE: Pending = { kind: 'none' };

/**
 * One window's data, instruction and address sections, with the caches the decoder keeps in step
 * (RFC 3284 §5.1: both reset at the start of every window).
 */
export class WindowCoder {
  readonly data = new ByteWriter();
  readonly inst = new ByteWriter();
  readonly addr = new ByteWriter();
  private readonly near = new Array<number>(NEAR_SIZE).fill(0);
  private nextNear = 0;
  private readonly same = new Int32Array(SAME_SLOTS);
  private pending: Pending = NONE;

  reset(): void {
    this.data.reset();
    this.inst.reset();
    this.addr.reset();
    this.near.fill(0);
    this.nextNear = 0;
    this.same.fill(0);
    this.pending = NONE;
  }

  /** Bytes an address would cost with the best mode the caches allow now (for deciding whether a COPY pays). */
  addressCost(address: number, here: number): number {
    if (this.same[address % SAME_SLOTS] === address) return 1;
    let best = Math.min(varintSize(address), varintSize(here - address));
    for (const n of this.near) if (address >= n) best = Math.min(best, varintSize(address - n));
    return best;
  }

  add(target: Uint8Array, start: number, end: number): void {
    this.data.bytes(target, start, end);
    const size = end - start;
    const p = this.pending;
    if (p.kind === 'copy' && p.size === MIN_COPY && size === 1) {
      this.inst.byte(OP_COPY4_ADD1 + p.mode);
      this.pending = NONE;
      return;
    }
    this.flush();
    this.pending = { kind: 'add', size };
  }

  run(byte: number, size: number): void {
    this.flush();
    this.data.byte(byte);
    this.inst.byte(OP_RUN);
    this.inst.varint(size);
  }

  copy(address: number, here: number, size: number): void {
    const mode = this.writeAddress(address, here);
    const p = this.pending;
    if (p.kind === 'add' && p.size <= 4) {
      if (mode < MODE_SAME && size <= 6) {
        this.inst.byte(OP_ADD_COPY + 12 * mode + 3 * (p.size - 1) + (size - MIN_COPY));
        this.pending = NONE;
        return;
      }
      if (mode >= MODE_SAME && size === MIN_COPY) {
        this.inst.byte(OP_ADD_COPY4_SAME + 4 * (mode - MODE_SAME) + (p.size - 1));
        this.pending = NONE;
        return;
      }
    }
    this.flush();
    this.pending = { kind: 'copy', size, mode };
  }

  /** Writes whatever instruction is still waiting for a partner. */
  flush(): void {
    const p = this.pending;
    this.pending = NONE;
    if (p.kind === 'add') {
      if (p.size <= MAX_ADD_IN_OPCODE) this.inst.byte(OP_ADD + p.size);
      else {
        this.inst.byte(OP_ADD);
        this.inst.varint(p.size);
      }
    } else if (p.kind === 'copy') {
      const base = OP_COPY + 16 * p.mode;
      if (p.size >= MIN_COPY && p.size <= MAX_COPY_IN_OPCODE) this.inst.byte(base + p.size - 3);
      else {
        this.inst.byte(base);
        this.inst.varint(p.size);
      }
    }
  }

  /** Writes `address` in its cheapest mode, updates the caches, and returns the mode. */
  private writeAddress(address: number, here: number): number {
    const slot = address % SAME_SLOTS;
    let mode: number;
    if (this.same[slot] === address) {
      mode = MODE_SAME + Math.floor(slot / 256);
      this.addr.byte(slot % 256);
    } else {
      mode = MODE_SELF;
      let value = address;
      if (varintSize(here - address) < varintSize(value)) {
        mode = MODE_HERE;
        value = here - address;
      }
      for (let i = 0; i < NEAR_SIZE; i++) {
        const offset = address - this.near[i]!;
        if (offset >= 0 && varintSize(offset) < varintSize(value)) {
          mode = MODE_NEAR + i;
          value = offset;
        }
      }
      this.addr.varint(value);
    }
    this.near[this.nextNear] = address;
    this.nextNear = (this.nextNear + 1) % NEAR_SIZE;
    this.same[slot] = address;
    return mode;
  }
}
