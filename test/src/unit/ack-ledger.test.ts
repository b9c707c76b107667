/**
 * The ACK ledger's remembered answers as two rings (session/ack-ledger.ts: a publish leaves its
 * serial string, not a record, an array and a Map entry for two scavenges to copy, bench S7). A
 * fast-check property (fixed seed) runs random answers, answers given again and look-ups against
 * the Map the ledger used to keep (256 answers by msgSerial, oldest out first, an answer given again
 * keeping its place): the same answer for every msgSerial, the same ones forgotten.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ErrorInfo } from '@encke/protocol';
import { AckLedger } from '@encke/server/internal';

type AckRecord = Parameters<AckLedger['remember']>[0];

const SEED = 19_2026_1207;
const MEMORY = 256;

/** The ledger as it was: a Map of records, the oldest deleted past 256. */
class MapModel {
  readonly answers = new Map<number, AckRecord>();
  remember(record: AckRecord): void {
    this.answers.set(record.msgSerial, record);
    if (this.answers.size > MEMORY) this.answers.delete(this.answers.keys().next().value!);
  }
}

const error: ErrorInfo = { code: 40000, statusCode: 400, message: 'bad' };
const answer = fc.oneof(
  { weight: 6, arbitrary: fc.string({ maxLength: 12 }).map((s) => ({ serials: [s] as (string | null)[] })) },
  {
    weight: 2,
    arbitrary: fc.array(fc.option(fc.string({ maxLength: 6 })), { maxLength: 3 }).map((serials) => ({ serials })),
  },
  { weight: 1, arbitrary: fc.constant({ error }) },
);
const op = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.integer({ min: 1, max: 3 }), answer).map(([gap, a]) => ({ next: gap, a })) },
  // Any msgSerial up to 300 back (remembered or forgotten) answered again, or looked up.
  { weight: 2, arbitrary: fc.tuple(fc.nat({ max: 300 }), answer).map(([back, a]) => ({ again: back, a })) },
  { weight: 2, arbitrary: fc.nat({ max: 300 }).map((back) => ({ lookup: back })) },
);

describe('the ACK ledger remembers answers in rings', () => {
  it('answers every msgSerial as the Map of 256 records did (property, fixed seed)', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 900 }), (ops) => {
        const ledger = new AckLedger();
        const model = new MapModel();
        let high = -1;
        for (const o of ops) {
          if ('next' in o) {
            high += o.next;
            const record: AckRecord = { msgSerial: high, ...o.a };
            ledger.remember(record);
            model.remember(record);
          } else if ('again' in o) {
            const record: AckRecord = { msgSerial: Math.max(0, high - o.again), ...o.a };
            ledger.remember(record);
            model.remember(record);
          } else {
            const msgSerial = high - o.lookup;
            assert.deepStrictEqual(ledger.answered(msgSerial), model.answers.get(msgSerial), `msgSerial ${msgSerial}`);
          }
          assert.equal(ledger.remembered, model.answers.size);
        }
        for (let m = high - 300; m <= high; m++) assert.deepStrictEqual(ledger.answered(m), model.answers.get(m));
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('keeps one answer per msgSerial when a skipped msgSerial was answered after higher ones', () => {
    const ledger = new AckLedger();
    ledger.remember({ msgSerial: 0, serials: ['a:0'] });
    ledger.remember({ msgSerial: 2, serials: ['a:2'] });
    // msgSerial 1 was skipped; sent now, it is a re-send (publish.ts) answered with no serials, as the newest.
    ledger.remember({ msgSerial: 1, serials: [] });
    // 2 re-sent: its answer again, in its place, not a second entry.
    ledger.remember({ msgSerial: 2, serials: ['a:2'] });
    assert.equal(ledger.remembered, 3);
    for (let m = 3; m < MEMORY + 1; m++) ledger.remember({ msgSerial: m, serials: [`a:${m}`] });
    assert.equal(ledger.answered(0), undefined, 'the oldest forgotten past 256');
    assert.deepStrictEqual(ledger.answered(2), { msgSerial: 2, serials: ['a:2'] });
    assert.deepStrictEqual(ledger.answered(1), { msgSerial: 1, serials: [] });
  });

  it('gives a re-sent msgSerial the ACK it had, byte for byte, 255 publishes later', () => {
    const ledger = new AckLedger();
    const first = ledger.reply({ msgSerial: 0, serials: ['abc:0'] }, undefined)!;
    for (let m = 1; m < MEMORY; m++) ledger.reply({ msgSerial: m, serials: [`abc:${m}`] }, undefined);
    const again = ledger.reply(ledger.answered(0)!, undefined)!;
    assert.deepStrictEqual(again.payload('json'), first.payload('json'));
    assert.deepStrictEqual(again.payload('msgpack'), first.payload('msgpack'));
    ledger.reply({ msgSerial: MEMORY, serials: ['abc:256'] }, undefined);
    assert.equal(ledger.answered(0), undefined, 'the oldest (answered again, in its place) is forgotten past 256');
    assert.deepStrictEqual(ledger.answered(1), { msgSerial: 1, serials: ['abc:1'] });
  });
});
