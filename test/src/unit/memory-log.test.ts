/**
 * The memory engine's channel log trims in place (engine/memory/memory-channel.ts): a full log
 * drops its oldest event on every publish without copying the rest into a new array, events past
 * `maxAge` leave several at once, and what remains is the newest events in order.
 */
import { field } from '../helpers/field.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryChannel } from '@encke/server/internal';

const MAX_COUNT = 200;
const MAX_AGE = 60_000;

function publish(ch: MemoryChannel, at: number, data: string): void {
  ch.append({ kind: 'message', timestamp: at, messages: [{ data }] }, at, 0);
  ch.trim(at);
}

/** The seqs after `after`, when the log reaches back that far. */
function seqs(ch: MemoryChannel, after: number): number[] {
  const read = ch.readAfter(ch.epoch, after, 10_000);
  assert.equal(read.complete, true, `the log reaches back to ${after + 1}`);
  return read.events.map((e) => e.seq);
}

describe('memory channel log: trimmed in place', () => {
  it('keeps the newest maxCount events, dropping the oldest of a full log in the same array', () => {
    const now = 1_000_000;
    const ch = new MemoryChannel(now, { maxCount: MAX_COUNT, maxAge: MAX_AGE });
    for (let i = 0; i < MAX_COUNT; i++) publish(ch, now, `m${i}`);
    const log: unknown = field(ch, 'log');
    for (let i = MAX_COUNT; i < MAX_COUNT + 50; i++) {
      publish(ch, now, `m${i}`);
      // Exactly maxCount events after every publish: seq i+1 is the newest, i+1-MAX_COUNT has left.
      assert.equal(ch.readAfter(ch.epoch, i - MAX_COUNT, 1).complete, false, `after publish ${i + 1}`);
      assert.equal(ch.readAfter(ch.epoch, i + 1 - MAX_COUNT, 1).complete, true, `after publish ${i + 1}`);
    }
    assert.equal(field(ch, 'log'), log, 'the same array: no copy of the log per publish');
    assert.deepEqual(
      seqs(ch, 50),
      Array.from({ length: MAX_COUNT }, (_, i) => 51 + i),
    );
    assert.equal(ch.readAfter(ch.epoch, 49, 10).complete, false, 'seq 50 has left the log');
    assert.equal(ch.readLast('message', 1)[0]?.messages?.[0]?.data, `m${MAX_COUNT + 49}`);
  });

  it('drops every event past maxAge at once, and the log when none is left', () => {
    const t0 = 1_000_000;
    const ch = new MemoryChannel(t0, { maxCount: MAX_COUNT, maxAge: MAX_AGE });
    for (let i = 0; i < 30; i++) publish(ch, t0, `old${i}`);
    for (let i = 0; i < 5; i++) publish(ch, t0 + 1000, `new${i}`);
    ch.trim(t0 + MAX_AGE + 1);
    assert.deepEqual(seqs(ch, 30), [31, 32, 33, 34, 35]);
    assert.equal(ch.readAfter(ch.epoch, 0, 10).complete, false, 'the log no longer reaches back to seq 1');
    ch.trim(t0 + 1000 + MAX_AGE + 1);
    assert.equal(ch.hasEvents, false);
    assert.equal(field(ch, 'log'), null);
  });
});
