/**
 * Random ids (util/ids.ts): connection secrets, sync ids and epochs are `randomAlnum`. Every
 * character must be equally likely: with `% 62` of a random byte, 8 of the 62 characters came 5/4
 * as often as the others (a connection secret lost a fraction of a bit per character). `randomId`
 * encodes straight from the random pool, and a derived connection secret is made from a digest
 * given as text (bench S3: no Buffer for either): the same ids and characters as before.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { derivedConnectionSecret, fillAlnum, fillAlnumFromText, randomAlnum, randomId } from '@encke/server/internal';

const SEED = 19_300;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

describe('randomAlnum', () => {
  it('gives ids of the asked length from [A-Za-z0-9] only, across pool refills', () => {
    for (const length of [0, 1, 7, 16, 61, 62, 63, 300, 5000]) {
      const id = randomAlnum(length);
      assert.equal(id.length, length);
      assert.match(id, /^[A-Za-z0-9]*$/);
    }
  });

  it('makes every character equally likely (no modulo bias)', () => {
    // 62 × 5,000 characters: each count is ~5,000 ± 70 (one standard deviation) when uniform; with
    // the bias the 8 favoured characters average 6,250. A ratio of 1.1 is 7 standard deviations.
    const counts = new Map<string, number>();
    for (let i = 0; i < 310; i++) for (const c of randomAlnum(1000)) counts.set(c, (counts.get(c) ?? 0) + 1);
    assert.equal(counts.size, ALPHABET.length);
    const values = [...counts.values()];
    const ratio = Math.max(...values) / Math.min(...values);
    assert.ok(ratio < 1.1, `most and least frequent characters differ ${ratio.toFixed(3)}×`);
  });

  it('does not repeat', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(randomAlnum(16));
    assert.equal(seen.size, 10_000);
  });
});

describe('randomId', () => {
  it('is URL-safe base64 of the asked number of bytes', () => {
    for (const bytes of [1, 9, 16, 4097]) {
      const id = randomId(bytes);
      assert.match(id, /^[A-Za-z0-9_-]+$/);
      assert.equal(Buffer.from(id, 'base64url').length, bytes);
    }
  });

  it('never repeats and keeps its length across many pool refills', () => {
    // 10,000 ids of 9 bytes take the 4 KiB pool ~22 times over.
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const id = randomId(9);
      assert.equal(id.length, 12);
      seen.add(id);
    }
    assert.equal(seen.size, 10_000);
  });
});

describe('fillAlnumFromText', () => {
  it('gives what fillAlnum gives for the same bytes (fast-check)', () => {
    // Bytes around the rejection bound (248 = 4 × 62: from there a byte is drawn again) come often.
    const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 61, 62, 247, 248, 255));
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 64 }), fc.nat(20), fc.nat(20), (list, size, from) => {
        const bytes = Uint8Array.from(list);
        const filled = Math.min(from, size);
        const a = Buffer.alloc(size);
        const b = Buffer.alloc(size);
        const na = fillAlnum(a, filled, bytes);
        const nb = fillAlnumFromText(b, filled, Buffer.from(bytes).toString('latin1'));
        assert.equal(nb, na);
        assert.deepEqual(b, a);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe('derivedConnectionSecret', () => {
  it('is 16 characters of [A-Za-z0-9], the same for an id every time, and its own string', () => {
    const first = derivedConnectionSecret('abcdefghijkl');
    assert.match(first, /^[A-Za-z0-9]{16}$/);
    const other = derivedConnectionSecret('abcdefghijkm');
    assert.notEqual(other, first);
    assert.equal(derivedConnectionSecret('abcdefghijkl'), first, 'a later derivation does not change an earlier one');
  });

  it('differs between ids', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5_000; i++) seen.add(derivedConnectionSecret(randomId(9)));
    assert.equal(seen.size, 5_000);
  });

  it('of connection ids (the cipher, not the digest): every character equally likely', () => {
    // 20,000 ids × 16 characters: each of the 62 is ~5,160 ± 72 when uniform; a `% 62` mapping of the
    // cipher's bytes makes 8 of them 5/4 as frequent (a ratio of 1.1 is 7 standard deviations).
    const counts = new Map<string, number>();
    for (let i = 0; i < 20_000; i++)
      for (const c of derivedConnectionSecret(randomId(9))) counts.set(c, (counts.get(c) ?? 0) + 1);
    assert.equal(counts.size, ALPHABET.length);
    const values = [...counts.values()];
    const ratio = Math.max(...values) / Math.min(...values);
    assert.ok(ratio < 1.1, `most and least frequent characters differ ${ratio.toFixed(3)}×`);
  });
});

describe('fillAlnum over a range', () => {
  it('reads only the bytes from `from` to `to`', () => {
    const bytes = Uint8Array.from([0, 1, 2, 255, 3, 61, 62]);
    const out = Buffer.alloc(16);
    // 255 is skipped (at or above 248); 62 wraps to 'A'.
    assert.equal(fillAlnum(out, 0, bytes, 1, 6), 4);
    assert.equal(out.toString('latin1', 0, 4), 'BCD9');
    assert.equal(fillAlnum(out, 4, bytes, 6, 7), 5);
    assert.equal(out.toString('latin1', 0, 5), 'BCD9A');
  });
});
