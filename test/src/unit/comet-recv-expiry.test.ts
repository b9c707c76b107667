/**
 * When a held comet recv is recycled (transports/comet/recv.ts `recvExpiry`): a stream at a random
 * point in the second half of `maxCometStreamDuration` from now; a poll is answered, never recycled
 * by lifetime, so its recv (every long-poll re-poll) reads no clock and draws no random number.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock, compactTime, recvExpiry } from '@encke/server/internal';

const MAX_STREAM = 30_000;
const POLL = { framing: undefined, stream: false, short: false } as const;
const STREAM = { framing: undefined, stream: true, short: false } as const;

/** A clock that must not be read. */
class UnreadClock extends FakeClock {
  override now(): number {
    throw new Error('a poll read the clock');
  }
}
const UNREAD = new UnreadClock(0);

describe('comet recv expiry', () => {
  it('a poll reads no clock and draws no random number', (t) => {
    t.mock.method(Math, 'random', () => assert.fail('a poll drew a random number'));
    assert.equal(recvExpiry(POLL, UNREAD, MAX_STREAM), 0);
    assert.equal(recvExpiry({ ...POLL, short: true }, UNREAD, MAX_STREAM), 0);
  });

  it('a stream expires in the second half of its maximum duration from now', (t) => {
    const clock = new FakeClock(Date.now());
    for (const draw of [0, 0.25, 0.999999]) {
      t.mock.method(Math, 'random', () => draw);
      const expires = recvExpiry(STREAM, clock, MAX_STREAM);
      assert.ok(expires >= compactTime(clock.now() + MAX_STREAM / 2), `${draw}: ${expires}`);
      assert.ok(expires <= compactTime(clock.now() + MAX_STREAM), `${draw}: ${expires}`);
      t.mock.restoreAll();
    }
  });
});
