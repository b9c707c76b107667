/**
 * What an idle connection and its channel keep, second pass (issue 19, bench S3): the session's rare
 * state in one object made by the first of it and dropped with the last; a connection's secret
 * derived from its id instead of kept; an attachment's modes and flags in one integer and its rare
 * parts in one object; a local channel's traffic state made by its first event; a memory channel's
 * epoch made from a process prefix and a channel number, its rare parts in one object. Each
 * representation is checked (private fields read with `Reflect.get`: they are what this is about)
 * together with the behaviour it must keep.
 */
import { field } from '../helpers/field.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Flag, type PresenceMessage } from '@encke/protocol';
import {
  Attachment,
  InboundQueue,
  LocalChannel,
  MemoryChannel,
  SessionFields,
  derivedConnectionSecret,
  epochOf,
  isKeyOf,
  randomId,
  type AttachmentOwner,
  type InboundHandler,
  type OutboundFrame,
} from '@encke/server/internal';
import { channelCounters } from '../helpers/channel-counters.js';

const APP = 'app';
const RETENTION = { maxAge: 60_000, maxCount: 100 };
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** SessionFields with its protected state reachable, as Session uses it. */
class Fields extends SessionFields {
  setMore(frames: OutboundFrame[] | null): void {
    this.more = frames;
  }
  getMore(): OutboundFrame[] | null {
    return this.more;
  }
  setExpiry(timer: object | undefined): void {
    this.expiry = timer;
  }
  getExpiry(): object | undefined {
    return this.expiry;
  }
  setSecret(secret: string | undefined): void {
    this.ownSecret = secret;
  }
  getSecret(): string | undefined {
    return this.ownSecret;
  }
  get state(): string {
    return this.current;
  }
  set state(state: 'connected' | 'disconnected' | 'closed') {
    this.current = state;
  }
  nextKey(): number {
    return this.nextKeyGeneration();
  }
  setInbound(queue: InboundQueue | null): void {
    this.inbound = queue;
  }
}

describe("SessionFields: a session's rare state in one object, made by the first part and dropped with the last", () => {
  it('keeps nothing for an idle session, makes one object for any part, and drops it when none is left', () => {
    const f = new Fields();
    assert.equal(field(f, 'extras'), null, 'idle: no object');
    assert.equal(f.msgSerialHigh, -1);
    f.setMore(null);
    f.setExpiry(undefined);
    assert.equal(field(f, 'extras'), null, 'setting nothing makes nothing');
    const frames: OutboundFrame[] = [];
    f.setMore(frames);
    const timer = {};
    f.setExpiry(timer);
    const extras: unknown = field(f, 'extras');
    assert.ok(extras !== null && typeof extras === 'object');
    assert.equal(f.getMore(), frames);
    assert.equal(f.getExpiry(), timer);
    f.setMore(null);
    assert.equal(field(f, 'extras'), extras, 'one part left: kept');
    assert.equal(f.getExpiry(), timer);
    f.setExpiry(undefined);
    assert.equal(field(f, 'extras'), null, 'none left: dropped');
    assert.equal(f.getMore(), null);
  });

  it('keeps the state and the key generation in one small integer, each unchanged by the other', () => {
    const f = new Fields();
    assert.equal(f.state, 'connected');
    assert.equal(f.nextKey(), 1);
    assert.equal(f.nextKey(), 2);
    f.state = 'disconnected';
    assert.equal(f.state, 'disconnected');
    assert.equal(f.nextKey(), 3, 'the generation survives a change of state');
    assert.equal(f.state, 'disconnected', 'and the state a new key');
    f.state = 'connected';
    f.state = 'closed';
    assert.equal(f.state, 'closed');
    for (let i = 4; i < 1000; i++) assert.equal(f.nextKey(), i);
    assert.equal(f.state, 'closed');
    const status: unknown = field(f, 'status');
    assert.ok(Number.isInteger(status) && (status as number) < 2 ** 31, 'a small integer');
  });

  it('holds the inbound queue only while client messages are under way', () => {
    const f = new Fields();
    // Made, never run: the queue's handler is not called here.
    const queue = new InboundQueue({} as InboundHandler);
    f.setInbound(queue);
    assert.ok(field(f, 'extras') !== null);
    f.setInbound(null);
    assert.equal(field(f, 'extras'), null, 'idle again: nothing kept');
  });

  it('makes the ack ledger by the first publish, and keeps it with what it answered', () => {
    const f = new Fields();
    const ledger = f.acks;
    assert.equal(f.acks, ledger, 'one ledger');
    assert.ok(field(f, 'extras') !== null);
    f.setSecret('s');
    f.setSecret(undefined);
    assert.equal(f.acks, ledger, 'other parts coming and going keep it');
  });
});

describe('derivedConnectionSecret: a secret per connection id, kept nowhere', () => {
  it('is 16 characters of [A-Za-z0-9], the same for an id every time, and a key of it belongs to that id only', () => {
    const id = randomId(9);
    const secret = derivedConnectionSecret(id);
    assert.match(secret, /^[A-Za-z0-9]{16}$/);
    assert.equal(derivedConnectionSecret(id), secret);
    const key = `${id}!${secret}3`;
    assert.ok(isKeyOf(key, id, derivedConnectionSecret(id)));
    const other = randomId(9);
    assert.ok(!isKeyOf(key, other, derivedConnectionSecret(other)));
  });

  it('differs from id to id, every character equally likely', () => {
    // 20,000 ids × 16 characters: each of the 62 is ~5,160 ± 72 when uniform; a `% 62` mapping of
    // the digest's bytes makes 8 of them 5/4 as frequent (a ratio of 1.1 is 7 standard deviations).
    const seen = new Set<string>();
    const counts = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const secret = derivedConnectionSecret(`id-${i}`);
      seen.add(secret);
      for (const c of secret) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    assert.equal(seen.size, 20_000);
    assert.equal(counts.size, ALPHABET.length);
    const values = [...counts.values()];
    const ratio = Math.max(...values) / Math.min(...values);
    assert.ok(ratio < 1.1, `most and least frequent characters differ ${ratio.toFixed(3)}×`);
  });
});

describe('Attachment: modes and flags in one integer, rare parts in one object', () => {
  const owner: AttachmentOwner = {
    id: 'conn',
    appId: APP,
    echo: true,
    enqueue: () => undefined,
    deliverShared: () => true,
  };
  const MODES = Flag.SUBSCRIBE | Flag.PUBLISH | Flag.PRESENCE | Flag.OBJECT_PUBLISH;

  it('keeps the granted modes apart from its flags through delta, narrow, buffering and going live', () => {
    const ch = new LocalChannel(`${APP}:ch`, APP, 'ch', channelCounters());
    const att = new Attachment(owner, ch, 'ch', MODES);
    assert.equal(att.modes, MODES);
    assert.equal(att.name, 'ch');
    assert.equal(field(att, 'extras'), null, 'a plain attachment: no object');
    att.delta = true;
    assert.equal(att.modes, MODES, 'delta is not a mode');
    assert.equal(att.delta, true);
    att.narrow(Flag.SUBSCRIBE | Flag.OBJECT_PUBLISH);
    assert.equal(att.modes, Flag.SUBSCRIBE | Flag.OBJECT_PUBLISH);
    assert.equal(att.delta, true, 'narrowing keeps the flags');
    assert.equal(att.live, false);
    att.goLive(0, []);
    assert.equal(att.live, true);
    assert.equal(att.overflowed, false);
    assert.equal(att.modes, Flag.SUBSCRIBE | Flag.OBJECT_PUBLISH, 'going live is not a mode');
    att.delta = false;
    assert.equal(att.delta, false);
    assert.equal(att.live, true);
    att.deltaFrom = undefined;
    att.filter = undefined;
    assert.equal(field(att, 'extras'), null, 'clearing what it does not have makes nothing');
  });

  it('keeps a qualified name, a filter, a delta base and buffered events in its object', () => {
    const ch = new LocalChannel(`${APP}:ch`, APP, 'ch', channelCounters());
    const att = new Attachment(owner, ch, '[?name=="a"]ch', Flag.SUBSCRIBE);
    assert.equal(att.name, '[?name=="a"]ch');
    assert.equal(att.channel.name, 'ch');
    const plain = new Attachment(owner, ch, 'ch', Flag.SUBSCRIBE);
    plain.deltaFrom = 'm1';
    assert.equal(plain.deltaFrom, 'm1');
    assert.ok(field(plain, 'extras') !== null);
    const events = [{ kind: 'message' as const, timestamp: 0, seq: 1, serial: 'e-1', messages: [{ data: 'x' }] }];
    const sent: OutboundFrame[] = [];
    const buffering = new Attachment({ ...owner, enqueue: (f) => sent.push(f) }, ch, 'ch', Flag.SUBSCRIBE);
    buffering.buffer(events);
    assert.ok(field(buffering, 'extras') !== null);
    buffering.goLive(0, []);
    assert.deepEqual(
      sent.map((f) => f.pm.messages?.map((m) => m.data)),
      [['x']],
      'what came while attaching goes out at going live',
    );
  });
});

describe('LocalChannel: traffic state made by the first event', () => {
  it('keeps none while only attached, and counts and chains from the first event on', () => {
    const ch = new LocalChannel(`${APP}:ch`, APP, 'ch', channelCounters());
    assert.equal(field(ch, 'traffic'), null);
    assert.equal(ch.lastSeq, 0);
    assert.equal(ch.lastEpoch, undefined);
    assert.equal(ch.holding, null);
    assert.equal(ch.itemsIn + ch.itemsOut + ch.deltasEncoded, 0);
    assert.equal(field(ch, 'traffic'), null, 'reading makes nothing');
    ch.lastEpoch = 'e';
    ch.lastSeq = 7;
    assert.ok(field(ch, 'traffic') !== null);
    assert.equal(ch.lastEpoch, 'e');
    assert.equal(ch.lastSeq, 7);
    const got: OutboundFrame[] = [];
    const sub = new Attachment(
      { id: 'c', appId: APP, echo: true, enqueue: (f) => got.push(f), deliverShared: (f) => got.push(f) > 0 },
      ch,
      'ch',
      Flag.SUBSCRIBE,
    );
    sub.goLive(7, []);
    ch.addSubscriber(sub);
    ch.pending = [{ kind: 'message', timestamp: Date.now(), seq: 8, serial: 'e-8', messages: [{ data: 'm' }] }];
    ch.flush(true);
    assert.equal(ch.itemsIn, 1);
    assert.equal(ch.itemsOut, 1);
    assert.deepEqual(
      got.map((f) => f.pm.messages?.[0]?.data),
      ['m'],
    );
  });
});

describe('MemoryChannel: epoch from a number, rare parts in one object', () => {
  it('gives each channel its own epoch, the same for its life, valid in serials', () => {
    const now = Date.now();
    const a = new MemoryChannel(now, RETENTION);
    const b = new MemoryChannel(now, RETENTION);
    assert.notEqual(a.epoch, b.epoch);
    assert.equal(a.epoch, a.epoch);
    assert.match(a.epoch, /^[A-Za-z0-9]{1,32}$/);
    const generation = field(a, 'generation');
    assert.ok(typeof generation === 'number', 'kept as a number, not a string');
    assert.equal(a.epoch, epochOf(generation));
    const outcome = a.append({ kind: 'message', timestamp: now, messages: [{ data: 'x' }] }, now, 0);
    assert.ok(outcome.event?.serial.startsWith(`${a.epoch}-`));
    assert.deepEqual(
      a.readAfter(a.epoch, 0, 10).events.map((e) => e.seq),
      [1],
    );
    assert.equal(a.readAfter(b.epoch, 0, 10).complete, false, "another channel's epoch is not continuity");
  });

  it('makes one object for presence, and drops it when the last member leaves', () => {
    const now = Date.now();
    const ch = new MemoryChannel(now, RETENTION);
    assert.equal(field(ch, 'extras'), null);
    const member: PresenceMessage = { action: 2, clientId: 'c', connectionId: 'conn', id: 'conn:0:0', timestamp: now };
    ch.applyPresence({ kind: 'presence', timestamp: now, presence: [member] }, now, 100);
    assert.equal(ch.members.size, 1);
    assert.ok(field(ch, 'extras') !== null);
    ch.leaveConnection('conn', now + 1, now + 1);
    assert.equal(ch.members.size, 0);
    assert.equal(field(ch, 'extras'), null, 'nobody present and nothing else: dropped');
    assert.equal(ch.isEmpty(), false, 'the enter and leave are in the log');
  });
});
