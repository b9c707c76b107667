/**
 * Random ids (util/ids.ts): connection secrets, sync ids and epochs are `randomAlnum`. Every
 * character must be equally likely: with `% 62` of a random byte, 8 of the 62 characters came 5/4
 * as often as the others (a connection secret lost a fraction of a bit per character).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomAlnum, randomId } from '@encke/server/internal';

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
});
