/**
 * `hasEpoch`, the node's per-event epoch check without the serial's regular expression
 * (LocalChannels.accept), against `parseSerial` itself: a table of edges and a fast-check property
 * (fixed seed) over well-formed and malformed serials.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatSerial, parseSerial } from '@encke/server';
import { hasEpoch } from '@encke/server/internal';

const SEED = 19_2026_12;
const EPOCH_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Characters a malformed serial may hold: the serial's own and some it must refuse. */
const NOISE_CHARS = `${EPOCH_CHARS}-: _.~\u00e9`;

const slow = (serial: string, epoch: string): boolean => parseSerial(serial)?.epoch === epoch;

const epochArb = fc.string({ unit: fc.constantFrom(...EPOCH_CHARS), minLength: 1, maxLength: 32 });
const seqDigits = fc.string({
  unit: fc.constantFrom(...'0123456789abcdefghijklmnopqrstuvwxyzAZ-'),
  minLength: 9,
  maxLength: 13,
});

describe('hasEpoch', () => {
  it('agrees with parseSerial on the edges', () => {
    const epoch = 'Ep0ch';
    const rows: [string, boolean][] = [
      [formatSerial(epoch, 0), true],
      [formatSerial(epoch, 1), true],
      [formatSerial(epoch, Number.MAX_SAFE_INTEGER), true],
      [`${epoch}-${(2 ** 53).toString(36)}`, false],
      [`${epoch}-zzzzzzzzzzz`, false],
      [`${epoch}-0000000000`, false],
      [`${epoch}-000000000000`, false],
      [`${epoch}-0000000000A`, false],
      [`${epoch}_00000000001`, false],
      [`${epoch}x-00000000001`, false],
      [`Ep0c-00000000001`, false],
      [`${epoch}-00000000001:000`, false],
      ['', false],
      [epoch, false],
    ];
    for (const [serial, expected] of rows) {
      assert.equal(hasEpoch(serial, epoch), expected, serial);
      assert.equal(slow(serial, epoch), expected, `parseSerial: ${serial}`);
    }
  });

  it('is parseSerial(serial)?.epoch === epoch for any serial and well-formed epoch (property)', () => {
    const serialArb = fc.oneof(
      fc.tuple(epochArb, fc.maxSafeNat()).map(([e, seq]) => formatSerial(e, seq)),
      fc.tuple(epochArb, seqDigits).map(([e, digits]) => `${e}-${digits}`),
      fc.string({ unit: fc.constantFrom(...NOISE_CHARS), maxLength: 48 }),
    );
    fc.assert(
      fc.property(epochArb, serialArb, fc.boolean(), (epoch, other, same) => {
        // Half the time the serial is made with the very epoch checked, so that matches are common.
        const serial = same ? other.replace(/^[^-]*/, epoch) : other;
        assert.equal(hasEpoch(serial, epoch), slow(serial, epoch), `${serial} / ${epoch}`);
      }),
      { seed: SEED, numRuns: 20_000 },
    );
  });
});
