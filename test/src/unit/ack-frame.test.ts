/**
 * ACK from its template (session/ack-frame.ts) is byte for byte what the encoders make of the
 * ledger's ACK, in JSON and msgpack, whatever the msgSerial, the count and the serials (fast-check,
 * fixed seed, every msgpack size edge); the ledger's ACK has exactly the keys the template writes,
 * also after later publishes joined it; NACKs and ACKs the template does not write go through the
 * encoder.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Action, encodeJson, encodeMsgpack, type Format, type ProtocolMessage } from '@encke/protocol';
import { AckLedger, replyFrame } from '@encke/server/internal';

const SEED = 19_061;
const FORMATS: readonly Format[] = ['json', 'msgpack'];

function bytes(payload: string | Uint8Array): Buffer {
  return typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
}

function encoded(pm: ProtocolMessage, format: Format): Buffer {
  return bytes(format === 'json' ? encodeJson(pm) : encodeMsgpack(pm));
}

/** Integers at each msgpack uint size's edges, and beyond what the template writes. */
const uint = fc.oneof(
  fc.constantFrom(0, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 0x100000000),
  fc.integer({ min: 0, max: 0xffff }),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
);
/** Serials as the engine makes them, strings of every msgpack str size class and script, and null. */
const serial = fc.oneof(
  fc.constantFrom(31, 32, 255, 256, 65_535, 65_536).map((n) => 's'.repeat(n)),
  fc.constantFrom(15, 16, 127, 128).map((n) => 'é'.repeat(n)),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u2028', '\u0000', 'a'), maxLength: 8 }),
  fc.constant(null),
);
/** Results of every msgpack array size class (fixarray, array16). */
const results = fc.oneof(
  fc.array(fc.record({ serials: fc.array(serial, { maxLength: 20 }) }), { minLength: 1, maxLength: 20 }),
  fc.constantFrom(15, 16, 17).map((n) => Array.from({ length: n }, (_, i) => ({ serials: [`x-${i}`] }))),
  fc.constantFrom(65_535, 65_536).map((n) => [{ serials: Array.from({ length: n }, () => null) }]),
);

describe('ACK from the template', () => {
  it('is byte for byte the encoders’ ACK, in both formats', () => {
    fc.assert(
      fc.property(uint, uint, results, (msgSerial, count, res) => {
        const pm: ProtocolMessage = { action: Action.ACK, msgSerial, count, res };
        const frame = replyFrame(pm);
        assert.equal(frame.pm, pm);
        for (const format of FORMATS) assert.deepEqual(bytes(frame.payload(format)), encoded(pm, format), format);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('encodes when written: publishes that join the ACK before then are in its bytes', () => {
    for (const format of FORMATS) {
      const ledger = new AckLedger();
      const frame = ledger.reply({ msgSerial: 7, serials: ['a:000'] }, undefined)!;
      assert.equal(ledger.reply({ msgSerial: 8, serials: ['b:000', 'b:001'] }, frame.pm), null);
      assert.equal(ledger.reply({ msgSerial: 9, serials: [null] }, frame.pm), null);
      const pm = {
        action: Action.ACK,
        msgSerial: 7,
        count: 3,
        res: [{ serials: ['a:000'] }, { serials: ['b:000', 'b:001'] }, { serials: [null] }],
      };
      assert.deepEqual(frame.pm, pm);
      assert.deepEqual(Object.keys(frame.pm), ['action', 'msgSerial', 'count', 'res'], 'the keys the template writes');
      assert.deepEqual(bytes(frame.payload(format)), encoded(pm, format));
    }
  });

  it('leaves NACKs and ACKs it does not write to the encoder', () => {
    const error = { code: 40160, statusCode: 401, message: 'denied' };
    const nack = new AckLedger().reply({ msgSerial: 3, error }, undefined)!;
    const odd: ProtocolMessage = { action: Action.ACK, msgSerial: 1.5, count: 1, res: [{ serials: ['s'] }] };
    for (const pm of [nack.pm, odd])
      for (const format of FORMATS) assert.deepEqual(bytes(replyFrame(pm).payload(format)), encoded(pm, format));
  });
});
