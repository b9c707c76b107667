/**
 * The memory channel's log kept as bytes (engine/memory/packed-log.ts: no scavenge copies a stored
 * event, bench S7). A fast-check property (fixed seed) runs random appends and drops against an
 * array of the events as they were stored: every event reads back deep-equal (strings of any
 * Unicode, binary data as Uint8Array and Buffer, extras, presence), with its seq, kind and
 * timestamp, and the seq searches agree, while both rings wrap and grow. Binary data read back is
 * the reader's own (not a view of bytes the ring writes over), and an event is kept as it stands
 * when packed (after the tick's fan-out, or at the first read of its contents, whichever is first).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Message, PresenceMessage } from '@encke/protocol';
import { PackedLog } from '@encke/server/internal';

type Stored = Parameters<PackedLog['push']>[0];

const SEED = 19_2026_1207;
const NOW = 1_765_000_000_123;

const key = fc.string({ maxLength: 6 }).filter((k) => k !== '__proto__');
const text = fc.string({ unit: 'binary', maxLength: 40 });
const json = fc.jsonValue({ maxDepth: 2 });
const bytes = fc.uint8Array({ maxLength: 40 });
const data = fc.oneof(
  text,
  bytes,
  bytes.map((b) => Buffer.from(b)),
);
const message: fc.Arbitrary<Message> = fc.record(
  {
    id: text,
    clientId: text,
    name: text,
    data,
    encoding: fc.constantFrom('json', 'base64', 'utf-8/cipher+aes-128-cbc'),
    serial: text,
    extras: fc.dictionary(key, json, { maxKeys: 3 }),
    timestamp: fc.integer({ min: 0, max: 2 ** 50 }),
  },
  { requiredKeys: [] },
);
const member: fc.Arbitrary<PresenceMessage> = fc.record(
  { action: fc.integer({ min: 0, max: 4 }), clientId: text, connectionId: text, data },
  { requiredKeys: ['action'] },
);
/** An event without its seq (given in order by the test). */
const event = fc.record(
  {
    kind: fc.constantFrom('message' as const, 'presence' as const, 'annotation' as const),
    timestamp: fc.oneof(fc.integer({ min: 0, max: 2 ** 50 }), fc.double({ noNaN: true })),
    serial: text,
    id: text,
    connectionId: text,
    messages: fc.array(message, { maxLength: 3 }),
    presence: fc.array(member, { maxLength: 2 }),
  },
  { requiredKeys: ['kind', 'timestamp', 'serial'] },
);
/** Pushes of events (some large, so the byte ring wraps and grows) and drops of the oldest. */
const op = fc.oneof(
  { weight: 3, arbitrary: event.map((e) => ({ push: e })) },
  {
    weight: 1,
    arbitrary: fc
      .string({ maxLength: 3000 })
      .map((big) => ({ push: { kind: 'message' as const, timestamp: 1, serial: big } })),
  },
  { weight: 1, arbitrary: fc.nat({ max: 3 }).map((n) => ({ drop: n })) },
);
/**
 * Small events of every size (a serial of 0 to 80 characters) in a small first ring, many at a
 * time: every place an event can go (after the newest, at 0, in a larger ring) at every distance
 * from the ring's end and from the oldest event, and the number ring full at every start.
 */
const tight = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .nat({ max: 80 })
      .map((n) => ({ push: { kind: 'presence' as const, timestamp: n, serial: 's'.repeat(n) } })),
  },
  { weight: 2, arbitrary: fc.nat({ max: 2 }).map((n) => ({ drop: n })) },
);

/** A deep copy keeping Buffers Buffers (structuredClone makes them Uint8Arrays), for the model. */
function clone<T>(value: T): T;
function clone(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map((v: unknown) => clone(v));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]: [string, unknown]) => [k, clone(v)]));
  return value;
}

/**
 * The log beside its model (the events as they were stored): pushes with increasing seqs (with gaps
 * unless `dense`: a channel's log skips no seq, but the log must not rely on it) and drops of the oldest.
 */
class Run {
  readonly log: PackedLog;
  model: Stored[] = [];
  private seq = 0;

  constructor(
    firstBytes: number,
    private readonly dense = false,
  ) {
    this.log = new PackedLog(firstBytes);
  }

  /** Applies a push or a drop; false for any other step (the caller's own). */
  step(o: { push: Omit<Stored, 'seq'> } | { drop: number } | object): boolean {
    if ('push' in o) {
      this.seq = this.dense ? this.seq + 1 : this.seq + 1 + (this.seq % 3);
      const stored: Stored = { ...o.push, seq: this.seq };
      this.log.push(stored);
      this.model.push(clone(stored));
      return true;
    }
    if ('drop' in o) {
      this.log.drop(o.drop);
      this.model = this.model.slice(Math.min(o.drop, this.model.length));
      return true;
    }
    return false;
  }
}

function check(log: PackedLog, model: readonly Stored[]): void {
  assert.equal(log.length, model.length);
  for (let i = 0; i < model.length; i++) {
    assert.equal(log.seqAt(i), model[i]!.seq);
    assert.equal(log.kindAt(i), model[i]!.kind);
    assert.equal(log.timestampAt(i), model[i]!.timestamp);
    assert.deepStrictEqual(log.at(i), model[i]);
  }
  assert.deepStrictEqual(log.all(), model);
  const seqs = model.map((e) => e.seq);
  for (const probe of [...seqs, (seqs[0] ?? 0) - 1, (seqs.at(-1) ?? 0) + 1, (seqs[0] ?? 0) + 0.5]) {
    assert.equal(log.indexOf(probe), seqs.indexOf(probe), `indexOf ${probe}`);
    const after = seqs.findIndex((s) => s > probe);
    assert.equal(log.indexAfter(probe), after < 0 ? seqs.length : after, `indexAfter ${probe}`);
  }
}

describe('the channel log as bytes', () => {
  it('reads back every event as it was stored, through appends, drops, wraps and growth (property, fixed seed)', () => {
    fc.assert(
      fc.property(
        fc.array(op, { minLength: 20, maxLength: 120 }),
        fc.integer({ min: 16, max: 2048 }),
        (ops, firstBytes) => {
          const run = new Run(firstBytes);
          for (const o of ops) {
            run.step(o);
            check(run.log, run.model);
          }
        },
      ),
      { seed: SEED, numRuns: 100, endOnFailure: true },
    );
  });

  it('keeps events intact wherever the byte ring puts them (property, fixed seed)', () => {
    fc.assert(
      fc.property(
        fc.array(tight, { minLength: 100, maxLength: 300 }),
        fc.integer({ min: 1, max: 200 }),
        (ops, firstBytes) => {
          const run = new Run(firstBytes, true);
          for (const o of ops) {
            run.step(o);
            assert.equal(run.log.length, run.model.length);
            for (let i = 0; i < run.model.length; i++) assert.deepStrictEqual(run.log.at(i), run.model[i]);
          }
        },
      ),
      // A failure is reported as found (shrinking 300 operations that decode the log each time is slow).
      { seed: SEED, numRuns: 400, endOnFailure: true },
    );
  });

  it("gives binary data that is the reader's own: the ring writing over its bytes leaves it as it was", () => {
    const log = new PackedLog(64);
    const payload = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    log.push({ kind: 'message', timestamp: NOW, seq: 1, serial: 's1', messages: [{ data: payload }] });
    const read = log.at(0).messages![0]!.data;
    assert.deepStrictEqual(read, payload);
    log.drop(1);
    // The same bytes of the ring hold the next events.
    for (let seq = 2; seq < 40; seq++) {
      log.push({
        kind: 'message',
        timestamp: NOW,
        seq,
        serial: `s${seq}`,
        messages: [{ data: new Uint8Array(8).fill(seq) }],
      });
      log.drop(1);
    }
    assert.deepStrictEqual(read, payload);
  });

  it('decodes the whole log once for its whole-log readers, then keeps that in step with pushes and drops', () => {
    const log = new PackedLog(64);
    const event = (seq: number): Stored => ({
      kind: 'message',
      timestamp: NOW,
      seq,
      serial: `s${seq}`,
      messages: [{ data: `m${seq}` }],
    });
    for (let seq = 1; seq <= 3; seq++) log.push(event(seq));
    const all = log.all();
    assert.equal(log.all(), all, 'the same array while the log holds it');
    const e = event(4);
    log.push(e);
    e.messages![0]!.data = 'changed after the push';
    log.drop(2);
    assert.equal(log.all(), all);
    assert.deepStrictEqual(all, [event(3), event(4)], 'as pushed, the dropped ones gone');
    log.drop(2);
    assert.deepStrictEqual(log.all(), []);
    log.push(event(5));
    assert.notEqual(log.all(), all, 'an emptied log decodes afresh');
    assert.deepStrictEqual(log.all(), [event(5)]);
  });

  it('keeps an event as it stands when packed: at the pack, or at the first read of its contents', () => {
    const log = new PackedLog();
    const e: Stored = { kind: 'message', timestamp: NOW, seq: 1, serial: 's', messages: [{ data: 'a' }] };
    log.push(e);
    log.pack();
    e.messages![0]!.data = 'changed';
    assert.equal(log.at(0).messages![0]!.data, 'a');
    assert.notEqual(log.at(0), log.at(0), 'each read is a new object');
    const f: Stored = { kind: 'message', timestamp: NOW, seq: 2, serial: 't', messages: [{ data: 'b' }] };
    log.push(f);
    assert.equal(log.at(1).messages![0]!.data, 'b', 'read before any pack');
    f.messages![0]!.data = 'changed';
    assert.equal(log.at(1).messages![0]!.data, 'b', 'the read packed it');
  });

  it('writes no bytes for a push until a pack or a read of contents; counts, seqs, kinds and times need none', () => {
    const log = new PackedLog(64);
    for (let seq = 1; seq <= 3; seq++)
      log.push({ kind: seq === 2 ? 'presence' : 'message', timestamp: NOW + seq, seq, serial: `s${seq}` });
    assert.equal(log.unpackedCount, 3);
    assert.equal(log.length, 3);
    assert.deepStrictEqual([log.seqAt(2), log.kindAt(1), log.timestampAt(0)], [3, 'presence', NOW + 1]);
    assert.deepStrictEqual([log.indexOf(2), log.indexAfter(2)], [1, 2]);
    assert.equal(log.unpackedCount, 3, 'none of these read bytes');
    log.drop(1);
    assert.equal(log.unpackedCount, 2, 'a dropped event is never written');
    log.pack();
    assert.equal(log.unpackedCount, 0);
    assert.deepStrictEqual(
      log.slice(0).map((e) => e.serial),
      ['s2', 's3'],
    );
    log.push({ kind: 'message', timestamp: NOW, seq: 4, serial: 's4' });
    assert.equal(log.at(0).serial, 's2', 'a read of a packed event');
    assert.equal(log.unpackedCount, 1, 'leaves the newer ones as they are');
    assert.equal(log.slice(1)[1]!.serial, 's4');
    assert.equal(log.unpackedCount, 0, 'a read reaching one packs');
  });

  it('reads back every event with packs at any point, and drops of events never packed (property, fixed seed)', () => {
    const step = fc.oneof(
      { weight: 4, arbitrary: op },
      { weight: 1, arbitrary: fc.constant({ pack: true as const }) },
      { weight: 1, arbitrary: fc.constant({ read: true as const }) },
    );
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 20, maxLength: 120 }),
        fc.integer({ min: 16, max: 2048 }),
        (ops, firstBytes) => {
          const run = new Run(firstBytes);
          const log = run.log;
          for (const o of ops) {
            const pushedOrDropped = run.step(o);
            if (!pushedOrDropped && 'pack' in o) {
              log.pack();
              assert.equal(log.unpackedCount, 0);
            } else if (!pushedOrDropped) check(log, run.model);
            assert.equal(log.length, run.model.length);
            for (let i = 0; i < run.model.length; i++) assert.equal(log.seqAt(i), run.model[i]!.seq);
          }
          check(log, run.model);
        },
      ),
      { seed: SEED, numRuns: 100, endOnFailure: true },
    );
  });
});
