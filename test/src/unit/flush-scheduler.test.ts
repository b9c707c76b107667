/**
 * The end-of-tick flush (util/scheduler.ts): channels hand out their events first; the sessions
 * they fed write before the sessions that already had frames queued (a publisher's ACK), so a
 * fan-out never waits behind the replies of the tick that caused it (issue 19); each item once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlushScheduler, type Flushable } from '@encke/server/internal';

class Item implements Flushable {
  flushQueued = false;
  constructor(
    readonly name: string,
    private readonly log: string[],
    private readonly onFlush: () => void = () => undefined,
  ) {}
  flush(): void {
    this.log.push(this.name);
    this.onFlush();
  }
}

describe('FlushScheduler', () => {
  it('writes the sessions a channel fed before the sessions queued earlier in the tick, each once', () => {
    const log: string[] = [];
    const scheduler = new FlushScheduler();
    const publisher = new Item('publisher-ack', log);
    const alsoSubscribed = new Item('publisher-also-subscriber', log);
    const subscribers = [new Item('sub-1', log), new Item('sub-2', log)];
    const channel = new Item('channel', log, () => {
      for (const s of [...subscribers, alsoSubscribed]) scheduler.session(s);
    });
    scheduler.session(publisher);
    scheduler.session(alsoSubscribed);
    scheduler.channel(channel);
    scheduler.run();
    assert.deepEqual(log, ['channel', 'sub-1', 'sub-2', 'publisher-ack', 'publisher-also-subscriber']);
    for (const item of [publisher, alsoSubscribed, channel, ...subscribers]) assert.equal(item.flushQueued, false);
  });

  it('runs at the end of the tick on its own, and an item queued while flushing waits for the next run', async () => {
    const log: string[] = [];
    const scheduler = new FlushScheduler();
    const late = new Item('late', log);
    const first = new Item('first', log, () => scheduler.session(late));
    scheduler.session(first);
    assert.deepEqual(log, []);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(log, ['first']);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(log, ['first', 'late']);
  });
});
