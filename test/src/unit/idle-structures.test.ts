/**
 * What an idle connection and its channel keep (issue 19, bench S3): the structures that used to be
 * made up front are made on first use and released again, and behave the same either way. A local
 * channel keeps one subscriber without a Set, a session's attachments one attachment without a Map,
 * a memory channel no log until its first event, a session no exactly-once ledger until its first
 * publish; connections of a key with the defaults share one params object; long-lived times are
 * small integers. The representation checks read private fields (`Reflect.get`): they are what
 * this test is about.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProtocolMessage } from '@encke/protocol';
import {
  Attachments,
  LocalChannel,
  MemoryChannel,
  PackedLog,
  compactTime,
  sharedParams,
  type AttachmentHolder,
  type AuthContext,
  type LocalChannels,
  type OutboundFrame,
  type SessionParams,
  type Subscriber,
} from '@encke/server/internal';
import { channelCounters } from '../helpers/channel-counters.js';
import { field } from '../helpers/field.js';

const APP = 'app';
const RETENTION = { maxAge: 60_000, maxCount: 100 };
/** V8's small integers on 64-bit builds without pointer compression (node's default). */
const SMI_MAX = 2 ** 31 - 1;

class FakeSubscriber implements Subscriber {
  readonly echo = true;
  readonly modes = 0xffff_ffff;
  readonly live = true;
  readonly delta = false;
  deltaFrom: string | undefined = undefined;
  readonly filter = undefined;
  cursor = 0;
  readonly got: ProtocolMessage[] = [];
  constructor(
    readonly connectionId: string,
    readonly name = 'ch',
  ) {}
  buffer(): void {}
  send(frame: OutboundFrame): void {
    this.got.push(frame.pm);
  }
  deliverShared(frame: OutboundFrame): boolean {
    this.send(frame);
    return true;
  }
  continuityLost(): void {}
}

let seq = 0;
/** Hands `ch` one message event and flushes it, as LocalChannels and the scheduler do. */
function deliver(ch: LocalChannel, data: string): void {
  seq++;
  ch.pending = [{ kind: 'message', timestamp: Date.now(), seq, serial: `e:${seq}`, messages: [{ data }] }];
  ch.flush(true);
}

const dataOf = (sub: FakeSubscriber): unknown[] => sub.got.flatMap((pm) => (pm.messages ?? []).map((m) => m.data));

describe('LocalChannel subscribers: one in a field, a Set from two', () => {
  it('keeps the order of arrival, each once, through 0 → 1 → 3 → 1 → 0', () => {
    const ch = new LocalChannel(`${APP}:ch`, APP, 'ch', channelCounters());
    const [a, b, c] = ['a', 'b', 'c'].map((id) => new FakeSubscriber(id)) as [
      FakeSubscriber,
      FakeSubscriber,
      FakeSubscriber,
    ];
    assert.equal(ch.subscriberCount, 0);
    assert.equal(ch.deleteSubscriber(a), false);
    ch.addSubscriber(a);
    ch.addSubscriber(a);
    assert.equal(ch.subscriberCount, 1);
    assert.equal(field(ch, 'subs'), a, 'one subscriber: in the field itself, no array or Set');
    ch.addSubscriber(b);
    ch.addSubscriber(c);
    const subs: unknown = field(ch, 'subs');
    assert.ok(subs instanceof Set);
    assert.deepEqual([...ch.subscribers], [a, b, c]);
    assert.equal(ch.deleteSubscriber(b), true);
    assert.deepEqual([...ch.subscribers], [a, c]);
    assert.equal(ch.deleteSubscriber(a), true);
    assert.deepEqual([...ch.subscribers], [c]);
    assert.equal(field(ch, 'subs'), c, 'back to one: the Set is dropped');
    assert.equal(ch.deleteSubscriber(a), false);
    assert.equal(ch.deleteSubscriber(c), true);
    assert.equal(ch.subscriberCount, 0);
    assert.deepEqual([...ch.subscribers], []);
  });

  it('delivers the same to one subscriber, two, and one again', () => {
    const ch = new LocalChannel(`${APP}:ch`, APP, 'ch', channelCounters());
    const a = new FakeSubscriber('a');
    const b = new FakeSubscriber('b');
    deliver(ch, 'nobody');
    ch.addSubscriber(a);
    deliver(ch, 'one');
    ch.addSubscriber(b);
    b.cursor = seq;
    deliver(ch, 'two');
    ch.deleteSubscriber(a);
    deliver(ch, 'one again');
    assert.deepEqual(dataOf(a), ['one', 'two']);
    assert.deepEqual(dataOf(b), ['two', 'one again']);
    assert.equal(ch.itemsOut, 4);
  });
});

describe('Attachments: one in a field of the session, a Map from two, no object of their own', () => {
  /** LocalChannels as Attachments uses it: open, subscribe, remove (what the channels hold is checked). */
  function fakeChannels(): { channels: LocalChannels; open: Map<string, LocalChannel> } {
    const open = new Map<string, LocalChannel>();
    const channels = {
      open(appId: string, name: string): LocalChannel {
        let ch = open.get(name);
        if (!ch) open.set(name, (ch = new LocalChannel(`${appId}:${name}`, appId, name, channelCounters())));
        return ch;
      },
      subscribe(ch: LocalChannel, sub: Subscriber): Promise<void> {
        ch.addSubscriber(sub);
        return Promise.resolve();
      },
      remove(ch: LocalChannel, sub: Subscriber): void {
        ch.deleteSubscriber(sub);
        if (ch.subscriberCount === 0) open.delete(ch.name);
      },
    };
    return { channels: channels as Pick<LocalChannels, keyof typeof channels> as LocalChannels, open };
  }
  /** A session as the attachments view sees it: its one field for them. */
  const holder = (): AttachmentHolder => ({
    id: 'conn',
    appId: APP,
    echo: true,
    enqueue: () => undefined,
    deliverShared: () => true,
    attached: null,
  });

  it('adds, replaces, looks up and removes through 0 → 1 → 3 → 1 → 0', () => {
    const { channels, open } = fakeChannels();
    const owner = holder();
    const atts = new Attachments(owner, channels);
    assert.equal(atts.size, 0);
    assert.deepEqual([...atts.values()], []);
    const x = atts.add('x', 1).attachment;
    assert.equal(owner.attached, x, 'one attachment: in the field, no Map');
    assert.equal(atts.get('x'), x);
    assert.equal(atts.get('y'), undefined);
    // Re-attaching a name replaces its attachment (attach.ts removes the previous one first).
    atts.remove(x);
    const x2 = atts.add('x', 3).attachment;
    assert.equal(atts.isCurrent(x), false);
    assert.equal(atts.isCurrent(x2), true);
    const y = atts.add('y', 1).attachment;
    const z = atts.add('z', 1).attachment;
    assert.equal(atts.size, 3);
    assert.ok(owner.attached instanceof Map);
    assert.deepEqual([...atts.values()], [x2, y, z]);
    atts.remove(y);
    atts.remove(x2);
    assert.equal(atts.size, 1);
    assert.equal(owner.attached, atts.get('z'), 'back to one: the Map is dropped');
    assert.equal(atts.get('z'), z);
    assert.equal(atts.get('x'), undefined);
    assert.deepEqual([...open.keys()], ['z']);
    atts.clear();
    assert.equal(atts.size, 0);
    assert.equal(atts.get('z'), undefined);
    assert.deepEqual([...open.keys()], [], 'every local channel released');
  });

  it('clear with several releases every channel', () => {
    const { channels, open } = fakeChannels();
    const owner = holder();
    const atts = new Attachments(owner, channels);
    for (const name of ['a', 'b', 'c']) atts.add(name, 1);
    atts.clear();
    assert.equal(atts.size, 0);
    assert.deepEqual([...open.keys()], []);
    assert.equal(atts.add('a', 1).attachment, atts.get('a'), 'usable again');
  });
});

describe('MemoryChannel: no log until the first event', () => {
  it('allocates the log on the first event and releases it when trimmed empty; reads the same throughout', () => {
    const now = Date.now();
    const ch = new MemoryChannel(now, RETENTION);
    assert.equal(field(ch, 'log'), null, 'attached only: no log array');
    assert.equal(ch.hasEvents, false);
    assert.equal(ch.isEmpty(), true);
    assert.deepEqual(ch.readAfter(ch.epoch, 0, 10), { events: [], complete: true });
    assert.deepEqual(ch.readLast('message', 10), []);
    ch.trim(now);
    assert.equal(field(ch, 'log'), null, 'trimming nothing makes nothing');
    const outcome = ch.append({ kind: 'message', timestamp: now, messages: [{ data: 'm' }] }, now, 0);
    const log: unknown = field(ch, 'log');
    assert.ok(log instanceof PackedLog, 'the log (as bytes: packed-log.ts)');
    assert.deepEqual(
      ch.readAfter(ch.epoch, 0, 10).events.map((e) => e.seq),
      [1],
    );
    assert.equal(outcome.serials.length, 1);
    // Past maxAge the event leaves the log, and the array with it.
    ch.trim(now + RETENTION.maxAge + 1);
    assert.equal(field(ch, 'log'), null);
    assert.equal(ch.hasEvents, false);
    assert.equal(ch.head().seq, 1, 'the position stays');
  });

  it('remembers idempotent publishes while their window lasts, then keeps nothing for them', () => {
    const now = Date.now();
    const window = 1000;
    const ch = new MemoryChannel(now, RETENTION);
    const publish = (at: number, id: string): string[] =>
      ch.append({ kind: 'message', timestamp: at, messages: [{ id, data: id }] }, at, window).serials;
    ch.append({ kind: 'message', timestamp: now, messages: [{ data: 'no id' }] }, now, window);
    assert.equal(field(ch, 'seenIds'), null, 'nothing to remember before a message with an id');
    const [first] = publish(now, 'm1');
    assert.deepEqual(publish(now + 10, 'm1'), [first], 'a re-send within the window gets the first serial');
    assert.notEqual(publish(now + 20, 'm2')[0], first);
    assert.equal(ch.head().seq, 3, 'the duplicate was not appended');
    // Past the window every id is forgotten, and the map with them.
    ch.trim(now + 20 + window + 1);
    assert.equal(field(ch, 'seenIds'), null);
    assert.notEqual(publish(now + 30 + window, 'm1')[0], first, 'out of the window: a new publish');
  });

  it('counts how long it has been unused in whole ms, kept as a small integer', () => {
    const now = Date.now();
    const ch = new MemoryChannel(now, RETENTION);
    assert.equal(ch.untouchedFor(now + 1234), 1234);
    ch.touch(now + 5000);
    assert.equal(ch.untouchedFor(now + 6000), 1000);
    const stored: unknown = field(ch, 'touched');
    assert.ok(Number.isInteger(stored) && Math.abs(stored as number) <= SMI_MAX);
  });
});

describe('compactTime', () => {
  it('keeps differences and fits a small integer for times of this process', () => {
    const t = Date.now();
    assert.equal(compactTime(t + 2500) - compactTime(t), 2500);
    assert.ok(Math.abs(compactTime(t)) <= SMI_MAX);
    assert.ok(Number.isInteger(compactTime(t + 0.5)), 'whole ms (what V8 keeps unboxed)');
  });
});

describe('sharedParams: one params object for the connections of a key with the defaults', () => {
  const app = { id: APP } as AuthContext['app'];
  const basic = { app, keyName: `${APP}.k`, capability: {}, method: 'basic', clientId: undefined } as AuthContext;
  const params = (over: Partial<SessionParams> = {}): SessionParams => ({
    auth: basic,
    clientId: undefined,
    echo: true,
    remainPresentFor: 15_000,
    ...over,
  });

  it('shares equal params of one basic-auth context, and only equal ones', () => {
    const first = sharedParams(params());
    assert.equal(sharedParams(params()), first);
    const noEcho = params({ echo: false });
    assert.equal(sharedParams(noEcho), noEcho);
    const other = params({ remainPresentFor: 1 });
    assert.equal(sharedParams(other), other);
    const client = params({ clientId: 'c' });
    assert.equal(sharedParams(client), client);
    assert.equal(sharedParams(params()), first, 'the first stays the shared one');
  });

  it('keeps nothing for token contexts (one per token)', () => {
    const token = { ...basic, method: 'token' } as AuthContext;
    const a = params({ auth: token });
    const b = params({ auth: token });
    assert.equal(sharedParams(a), a);
    assert.equal(sharedParams(b), b);
  });
});
