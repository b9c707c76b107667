import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatSerial, parseSerial } from '@encke/server';
import { messageSerial } from '@encke/server/internal';

const SEED = 19_2026_2306;
const EPOCH_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** The serials as they were written with padStart: the padding tables (serial.ts) must give the same strings. */
const slowSerial = (epoch: string, seq: number): string => `${epoch}-${seq.toString(36).padStart(11, '0')}`;
const slowMessageSerial = (serial: string, index: number): string => `${serial}:${index.toString(36).padStart(3, '0')}`;

describe('channel serials', () => {
  it('round-trip and sort as strings within an epoch', () => {
    const serials = [0, 1, 9, 35, 36, 1295, 2 ** 40].map((n) => formatSerial('Ep0ch123', n));
    assert.deepEqual([...serials].sort(), serials);
    for (const [i, n] of [0, 1, 9, 35, 36, 1295, 2 ** 40].entries())
      assert.deepEqual(parseSerial(serials[i]!), { epoch: 'Ep0ch123', seq: n });
  });
  it('rejects forgeries and garbage', () => {
    for (const bad of ['', 'x', 'abc-123', 'ep-00000000001:000', 'e p-00000000001', '-00000000001', 'ep-zzzzzzzzzzz']) {
      assert.equal(parseSerial(bad) === undefined || bad === 'ep-zzzzzzzzzzz', true, bad);
    }
    // 36^11 - 1 exceeds 2^53: not a safe integer, so not a serial.
    assert.equal(parseSerial('ep-zzzzzzzzzzz'), undefined);
  });
  it('are written as padStart wrote them: edges and a property (fixed seed)', () => {
    const seqs = [0, 1, 35, 36, 36 ** 2, 36 ** 10 - 1, 36 ** 10, Number.MAX_SAFE_INTEGER];
    for (const seq of seqs) assert.equal(formatSerial('Ep0ch', seq), slowSerial('Ep0ch', seq), `seq ${seq}`);
    const indexes = [0, 1, 9, 10, 35, 36, 37, 1295, 1296, 46_655, 46_656, 100_000];
    for (const i of indexes) assert.equal(messageSerial('e-1', i), slowMessageSerial('e-1', i), `index ${i}`);
    const epoch = fc.string({ unit: fc.constantFrom(...EPOCH_CHARS), minLength: 1, maxLength: 32 });
    fc.assert(
      fc.property(epoch, fc.maxSafeNat(), fc.nat({ max: 50_000 }), (e, seq, index) => {
        const serial = formatSerial(e, seq);
        assert.equal(serial, slowSerial(e, seq));
        assert.equal(messageSerial(serial, index), slowMessageSerial(serial, index));
      }),
      { seed: SEED, numRuns: 5_000 },
    );
  });
});
