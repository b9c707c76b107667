import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSerial, parseSerial } from '@encke/server';

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
});
