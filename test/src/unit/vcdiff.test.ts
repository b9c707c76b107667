/**
 * The VCDIFF encoder against the decoder the ably-js delta plugin uses (@ably/vcdiff-decoder):
 * every delta must rebuild its target from its source, and deltas of small edits must be small.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as vcdiffDecoder from '@ably/vcdiff-decoder';
import fc from 'fast-check';
import { vcdiffEncode, MAX_VCDIFF_INPUT } from '@encke/server/internal';

const SEED = 20261206;
const utf8 = new TextEncoder();

function roundTrips(source: Uint8Array, target: Uint8Array, windowSize?: number): Uint8Array {
  const delta = vcdiffEncode(source, target, windowSize === undefined ? {} : { windowSize });
  const rebuilt = vcdiffDecoder.decode(delta, source);
  assert.deepEqual(Buffer.from(rebuilt), Buffer.from(target));
  return delta;
}

type Edit = { at: number; remove: number; insert: Uint8Array };

function applyEdits(source: Uint8Array, edits: readonly Edit[]): Uint8Array {
  let out = Buffer.from(source);
  for (const e of edits) {
    const at = out.length === 0 ? 0 : e.at % (out.length + 1);
    out = Buffer.concat([out.subarray(0, at), e.insert, out.subarray(Math.min(out.length, at + e.remove))]);
  }
  return new Uint8Array(out);
}

const edit = fc.record({ at: fc.nat(), remove: fc.nat({ max: 8 }), insert: fc.uint8Array({ maxLength: 8 }) });

/** Step `step` of a ~1 KB JSON document like a price feed's: one instrument (~5% of it) changes per step. */
function document(step: number): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  for (let i = 0; i < 20; i++) {
    const changes = Math.floor((step + 20 - i - 1) / 20); // how often instrument i has changed by `step`
    doc[`instrument_${i}`] = { price: 1000 + i * 37 + changes * 13, label: `name-${i}`, open: (i + changes) % 2 === 0 };
  }
  return doc;
}

/**
 * A target assembled from pieces that steer the encoder into every instruction form: short
 * literals next to 4–8 byte copies (the paired opcodes), the same source slices again and again
 * (near and same address caches, addresses past 256), copies of the target itself, and runs.
 */
const piece = fc.oneof(
  fc.record({ kind: fc.constant('source' as const), at: fc.nat(), length: fc.integer({ min: 4, max: 8 }) }),
  fc.record({ kind: fc.constant('again' as const), index: fc.nat({ max: 5 }) }),
  fc.record({ kind: fc.constant('literal' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('self' as const), back: fc.nat(), length: fc.integer({ min: 4, max: 8 }) }),
  fc.record({ kind: fc.constant('run' as const), byte: fc.nat({ max: 255 }), length: fc.integer({ min: 4, max: 40 }) }),
);
type Piece = typeof piece extends fc.Arbitrary<infer P> ? P : never;

function assemble(source: Uint8Array, pieces: readonly Piece[]): Uint8Array {
  const out: number[] = [];
  const slices: [number, number][] = [];
  const slice = (at: number, length: number): void => {
    for (let i = 0; i < length; i++) out.push(source[at + i]!);
  };
  for (const p of pieces) {
    if (p.kind === 'source') {
      const at = p.at % (source.length - p.length);
      slices.push([at, p.length]);
      slice(at, p.length);
    } else if (p.kind === 'again' && slices.length > 0) {
      const [at, length] = slices[p.index % slices.length]!;
      slice(at, length);
    } else if (p.kind === 'literal') out.push(...p.bytes);
    else if (p.kind === 'self' && out.length >= p.length) {
      const from = out.length - p.length - (p.back % (out.length - p.length + 1));
      for (let i = 0; i < p.length; i++) out.push(out[from + i]!);
    } else if (p.kind === 'run') for (let i = 0; i < p.length; i++) out.push(p.byte);
  }
  return new Uint8Array(out);
}

describe('vcdiff encoder', () => {
  it('header, window and sections have the layout the decoder reads', () => {
    const delta = vcdiffEncode(utf8.encode('hello world'), utf8.encode('hello there world'));
    assert.deepEqual([...delta.subarray(0, 5)], [0xd6, 0xc3, 0xc4, 0x00, 0x00]);
    assert.equal(delta[5], 0x01, 'VCD_SOURCE window');
    assert.equal(delta[6], 11, 'source segment is the whole source');
    assert.equal(delta[7], 0, 'at position 0');
    assert.equal(delta[8], delta.length - 9, 'delta encoding length covers the rest');
    assert.equal(delta[9], 17, 'target window length');
    assert.equal(delta[10], 0, 'no secondary compression');
  });

  it('round-trips edge cases', () => {
    const cases: [string, string][] = [
      ['', ''],
      ['abc', ''],
      ['', 'abcabcabcabc'],
      ['same', 'same'],
      ['aaaa', 'aaaaaaaaaaaaaaaaaaaaaaa'],
      ['abcdefgh', 'hgfedcba'],
      ['x', 'xyxyxyxyxyxyxyxyxyxy'],
    ];
    for (const [s, t] of cases) roundTrips(utf8.encode(s), utf8.encode(t));
    // Copies from descending addresses: each address is one below a cached one (near mode must not go negative).
    const source = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) % 251);
    const pieces = Array.from({ length: 30 }, (_, k) => [...source.subarray(600 - k, 606 - k), 255 - k]).flat();
    roundTrips(source, Uint8Array.from(pieces));
    // An empty target still has one window: the decoder refuses a delta without any.
    assert.equal(vcdiffEncode(utf8.encode('abc'), new Uint8Array(0)).length > 5, true);
  });

  it('round-trips arbitrary bytes, over one window or many', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.uint8Array({ maxLength: 3000 }),
        fc.option(fc.integer({ min: 4, max: 2000 }), { nil: undefined }),
        (s, t, w) => {
          roundTrips(s, t, w);
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('round-trips repetitive bytes (runs, self-copies, cache hits)', () => {
    const small = fc.uint8Array({ min: 0, max: 2, maxLength: 2000 });
    fc.assert(
      fc.property(small, small, fc.integer({ min: 4, max: 600 }), (s, t, w) => void roundTrips(s, t, w)),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('round-trips targets made of copies, literals, self-copies and runs', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1200, maxLength: 3000 }),
        fc.array(piece, { maxLength: 200 }),
        (source, pieces) => {
          roundTrips(source, assemble(source, pieces));
        },
      ),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('round-trips small edits, and their deltas stay small', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 4000 }),
        fc.array(edit, { minLength: 1, maxLength: 6 }),
        (source, edits) => {
          const target = applyEdits(source, edits);
          const delta = roundTrips(source, target);
          const inserted = edits.reduce((n, e) => n + e.insert.length, 0);
          // Header and window cost ~20 bytes; each edit at most its inserted bytes plus a few instructions.
          assert.ok(
            delta.length <= 24 + inserted + 14 * edits.length,
            `delta ${delta.length} bytes for ${edits.length} edits inserting ${inserted} bytes`,
          );
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('a 1 KB JSON document changing by ~5% gives a delta of a few percent of it', () => {
    let sizes = 0;
    let total = 0;
    for (let i = 1; i <= 50; i++) {
      const prev = utf8.encode(JSON.stringify(document(i - 1)));
      const next = utf8.encode(JSON.stringify(document(i)));
      sizes += roundTrips(prev, next).length;
      total += next.length;
    }
    assert.ok(total / 50 > 800, 'documents are about 1 KB');
    assert.ok(sizes / total < 0.05, `deltas are ${((100 * sizes) / total).toFixed(1)}% of the documents`);
  });

  it('refuses inputs too large for the decoder', () => {
    const big = { length: MAX_VCDIFF_INPUT + 1 } as unknown as Uint8Array;
    assert.throws(() => vcdiffEncode(new Uint8Array(1), big), RangeError);
  });
});
