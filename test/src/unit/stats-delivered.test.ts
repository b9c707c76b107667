/**
 * Outbound message stats count each delivery (issue 19: an increment per subscriber, added up once
 * per frame at the end of the tick): counts and data bytes per recipient, frames interleaved with
 * uncounted ones (ACKs), several apps, presence, and nothing lost when the store is flushed. A
 * channel's fan-out counts its shared frame once for all its recipients (`deliveredTo`): the same
 * entries as one count per recipient.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Action } from '@encke/protocol';
import { FakeClock, OutboundFrame, StatsCounters } from '@encke/server/internal';
import type { StatsStore } from '@encke/server/internal';

const MINUTE = 60_000;

/** A stats store that keeps what the counters add, per app (summed over minutes). */
function recordingStore(): { store: StatsStore; added: Map<string, Record<string, number>> } {
  const added = new Map<string, Record<string, number>>();
  const store = {
    add(appId: string, _minute: number, entries: Readonly<Record<string, number>>): Promise<void> {
      const e = added.get(appId) ?? {};
      for (const [k, v] of Object.entries(entries)) e[k] = (e[k] ?? 0) + v;
      added.set(appId, e);
      return Promise.resolve();
    },
    read: () => Promise.resolve({ records: [], more: false }),
  };
  return { store, added };
}

const messageFrame = (...data: string[]): OutboundFrame =>
  new OutboundFrame({ action: Action.MESSAGE, channel: 'c', messages: data.map((d) => ({ data: d })) });
const silent = {
  info() {},
  warn() {},
  error() {},
  debug() {},
  isLevelEnabled: () => false,
} as unknown as ConstructorParameters<typeof StatsCounters>[2];

describe('StatsCounters.delivered', () => {
  it('counts every recipient of a shared frame, interleaved with other frames and apps', async () => {
    const clock = new FakeClock(10 * MINUTE);
    const { store, added } = recordingStore();
    const stats = new StatsCounters(clock, store, silent);
    const fanOut = messageFrame('abc', 'de');
    const presence = new OutboundFrame({
      action: Action.PRESENCE,
      channel: 'c',
      presence: [{ action: 2, clientId: 'x', data: 'p' }],
    });
    const ack = new OutboundFrame({ action: Action.ACK, msgSerial: 0, count: 1 });
    for (let i = 0; i < 1000; i++) stats.delivered('app1', fanOut);
    stats.delivered('app1', ack);
    stats.delivered('app1', fanOut);
    stats.delivered('app2', fanOut);
    stats.delivered('app2', presence);
    stats.delivered('app2', presence);
    stats.settle();
    stats.delivered('app1', fanOut);
    await stats.flush();
    const a1 = added.get('app1')!;
    assert.equal(a1['messages.outbound.realtime.messages.count'], 1002 * 2);
    assert.equal(a1['messages.outbound.realtime.messages.data'], 1002 * 5);
    assert.equal(a1['messages.outbound.realtime.presence.count'], undefined);
    const a2 = added.get('app2')!;
    assert.equal(a2['messages.outbound.realtime.messages.count'], 2);
    assert.equal(a2['messages.outbound.realtime.presence.count'], 2);
    assert.equal(a2['messages.outbound.realtime.presence.data'], 2);
  });

  it('a delivery counted just before a flush is in that flush, not the next', async () => {
    const clock = new FakeClock(10 * MINUTE);
    const { store, added } = recordingStore();
    const stats = new StatsCounters(clock, store, silent);
    stats.delivered('app', messageFrame('x'));
    await stats.flush('app');
    assert.equal(added.get('app')?.['messages.outbound.realtime.messages.count'], 1);
    await stats.flush();
    assert.equal(added.get('app')?.['messages.outbound.realtime.messages.count'], 1);
  });

  it('a fan-out counted once for its recipients adds what one count per recipient adds', async () => {
    const clock = new FakeClock(10 * MINUTE);
    const perRecipient = recordingStore();
    const once = recordingStore();
    const a = new StatsCounters(clock, perRecipient.store, silent);
    const b = new StatsCounters(clock, once.store, silent);
    const fanOut = messageFrame('abc', 'de');
    const presence = new OutboundFrame({
      action: Action.PRESENCE,
      channel: 'c',
      presence: [{ action: 2, clientId: 'x', data: 'pq' }],
    });
    const annotation = new OutboundFrame({ action: Action.ANNOTATION, channel: 'c', annotations: [] });
    for (const frame of [fanOut, presence, annotation]) {
      for (let i = 0; i < 1000; i++) a.delivered('app', frame);
      b.deliveredTo('app', frame, 1000);
    }
    await a.flush();
    await b.flush();
    assert.deepEqual(once.added.get('app'), perRecipient.added.get('app'));
    assert.equal(once.added.get('app')?.['messages.outbound.realtime.messages.count'], 2000);
    assert.equal(once.added.get('app')?.['messages.outbound.realtime.presence.data'], 2000);
  });
});

describe('StatsCounters.flush', () => {
  it('never rejects: a failing store write is logged with its error, the other apps are still written', async () => {
    const clock = new FakeClock(10 * MINUTE);
    const recorded = recordingStore();
    const recording = recorded.store;
    const added = recorded.added;
    const failure = new Error('store down');
    const store: StatsStore = {
      add: (appId, minute, entries) =>
        appId === 'bad' ? Promise.reject(failure) : recording.add(appId, minute, entries),
      read: recording.read,
    };
    const warned: unknown[] = [];
    const logger = {
      ...silent,
      warn: (fields: object | string, message?: string): void => void warned.push([fields, message]),
    };
    const stats = new StatsCounters(clock, store, logger);
    stats.delivered('bad', messageFrame('x'));
    stats.delivered('good', messageFrame('yz'));
    await stats.flush();
    assert.deepEqual(warned, [[{ err: failure }, 'stats flush failed']]);
    assert.equal(added.get('good')?.['messages.outbound.realtime.messages.count'], 1);
    assert.equal(added.get('bad'), undefined);
  });
});
