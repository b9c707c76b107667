/**
 * The end-of-tick flush (util/scheduler.ts): channels hand out their events first; the sessions
 * they fed write before the sessions that already had frames queued (a publisher's ACK), so a
 * fan-out never waits behind the replies of the tick that caused it (issue 19); each item once.
 * Only the run's last channel is told it is last: its frames may be written at once to connections
 * with nothing queued (Session.deliverShared), as no other channel delivers after it in that run.
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
  flush(last: boolean): void {
    this.log.push(last ? `${this.name} (last)` : this.name);
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
    assert.deepEqual(log, ['channel (last)', 'sub-1', 'sub-2', 'publisher-ack', 'publisher-also-subscriber']);
    for (const item of [publisher, alsoSubscribed, channel, ...subscribers]) assert.equal(item.flushQueued, false);
  });

  it('tells the run its last channel, and no session', () => {
    const log: string[] = [];
    const scheduler = new FlushScheduler();
    const session = new Item('session', log);
    const late = new Item('queued-while-flushing', log);
    const channels = ['a', 'b', 'c'].map((n) => new Item(n, log, () => scheduler.session(session)));
    for (const c of channels) scheduler.channel(c);
    scheduler.run();
    assert.deepEqual(log, ['a', 'b', 'c (last)', 'session']);
    // A channel queued during a run waits for the next run, where it is the last again.
    scheduler.channel(new Item('d', log, () => scheduler.channel(late)));
    scheduler.run();
    scheduler.run();
    assert.deepEqual(log.slice(4), ['d (last)', 'queued-while-flushing (last)']);
  });

  it('an item whose flush throws goes to the failure handler; the rest of the run is written', () => {
    const log: string[] = [];
    const failed: string[] = [];
    const scheduler = new FlushScheduler((item, err) => failed.push(`${(item as Item).name}: ${String(err)}`));
    const broken = new Item('broken', log, () => {
      throw new Error('a bug');
    });
    for (const s of [new Item('s1', log), broken, new Item('s2', log)]) scheduler.session(s);
    scheduler.fault(broken, new Error('outside its flush'));
    scheduler.run();
    assert.deepEqual(log, ['s1', 'broken', 's2']);
    assert.deepEqual(failed, ['broken: Error: outside its flush', 'broken: Error: a bug']);
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
