/**
 * The pure parts of @encke/client's shared connection (packages/client/src/shared): leader election
 * with handover (fake BroadcastChannel, fake Web Locks, fake clock). The hub's routing is in
 * shared.test.ts; the browser paths run in test/src/browser-shared.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientOptions, TransportContext, TransportSink } from '@encke/client';
import type { ProtocolMessage } from '@encke/protocol';
import { Action, PresenceAction } from '@encke/protocol';
import { kit } from '@encke/client/internal/kit';
import { resolveOptions } from '@encke/client/internal/options';
import {
  LeaderMedium,
  SERIAL_MARGIN,
  STATE_WAIT_MS,
  type Bus,
  type LeaderEnv,
} from '@encke/client/internal/shared/leader';
import { HELLO_MS, Link } from '@encke/client/internal/shared/tab';
import type { UpstreamClient } from '@encke/client/internal/shared/upstream';
import { isToHub, type ToHub, type ToTab } from '@encke/client/internal/shared/wire';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeUpstream, message, serial } from '../helpers/fake-upstream.js';
import { jsonObject } from '../helpers/json.js';

/** BroadcastChannels of one browser: a message goes to every other object of the same name, a task later. */
class FakeBuses {
  private readonly open = new Set<{ name: string; bus: Bus }>();
  make(name: string): Bus {
    const entry = { name, bus: undefined as unknown as Bus };
    const buses = this.open;
    entry.bus = {
      onmessage: null,
      postMessage(msg: ToHub | ToTab) {
        const copy = structuredClone(msg);
        for (const other of [...buses])
          if (other !== entry && other.name === name)
            setImmediate(() => buses.has(other) && other.bus.onmessage?.({ data: copy }));
      },
      close: () => void buses.delete(entry),
    };
    buses.add(entry);
    return entry.bus;
  }
  /** What any script of the origin can post on the channel `name`: anything structured-cloneable. */
  forge(name: string, data: unknown): void {
    const copy = structuredClone(data);
    for (const other of [...this.open])
      if (other.name === name) setImmediate(() => this.open.has(other) && other.bus.onmessage?.({ data: copy }));
  }
}

/** Web Locks: one holder per name, the others wait in order; abortable while waiting. */
class FakeLocks {
  private readonly queues = new Map<string, { held: () => Promise<void>; signal: AbortSignal }[]>();
  private readonly busy = new Set<string>();
  request(name: string, signal: AbortSignal, held: () => Promise<void>): void {
    const q = this.queues.get(name) ?? [];
    this.queues.set(name, q);
    q.push({ held, signal });
    this.next(name);
  }
  private next(name: string): void {
    if (this.busy.has(name)) return;
    const q = this.queues.get(name) ?? [];
    let w = q.shift();
    while (w?.signal.aborted) w = q.shift();
    if (!w) return;
    this.busy.add(name);
    void w.held().finally(() => {
      this.busy.delete(name);
      this.next(name);
    });
  }
}

interface Browser {
  clock: FakeClock;
  buses: FakeBuses;
  locks: FakeLocks;
  /** Recovery keys each started connection was given, in order. */
  recovered: (string | undefined)[];
  upstreams: FakeUpstream[];
  pagehides: (() => void)[];
  env(): LeaderEnv;
}

function browser(): Browser {
  const b: Browser = {
    clock: new FakeClock(),
    buses: new FakeBuses(),
    locks: new FakeLocks(),
    recovered: [],
    upstreams: [],
    pagehides: [],
    env() {
      const pagehide: { fn?: () => void } = {};
      b.pagehides.push(() => pagehide.fn?.());
      return {
        kit,
        clock: b.clock,
        group: 'encke:test',
        bus: (name) => b.buses.make(name),
        lock: (name, signal, held) => b.locks.request(name, signal, held),
        upstream: async (recover): Promise<UpstreamClient> => {
          b.recovered.push(recover);
          const up = new FakeUpstream();
          b.upstreams.push(up);
          return {
            manager: up,
            stop: () => {
              up.state = 'disconnected';
              up.hooks?.onState('disconnected', undefined);
            },
          };
        },
        pagehide(fn) {
          pagehide.fn = fn;
          return () => (pagehide.fn = undefined);
        },
      };
    },
  };
  return b;
}

/** A leader whose connection starts only when `release` is called (until then, no hub answers). */
function slowLeader(b: Browser): { leader: LeaderMedium; release: () => void } {
  const env = b.env();
  let start: (() => void) | undefined;
  const slow: LeaderEnv = {
    ...env,
    upstream: (r) => new Promise((resolve) => (start = () => void env.upstream(r).then(resolve))),
  };
  return { leader: new LeaderMedium(slow), release: () => start?.() };
}

/** A tab's link over a medium, recording what its connection would hear. */
function link(
  b: Browser,
  medium: LeaderMedium,
  clientId: string,
): { heard: ProtocolMessage[]; closed: unknown[]; link: Link } {
  const heard: ProtocolMessage[] = [];
  const closed: unknown[] = [];
  const options = resolveOptions({ key: 'app.key:secret', clientId, clock: b.clock } satisfies ClientOptions);
  const ctx = { kit, options } as unknown as TransportContext;
  const sink: TransportSink = {
    onMessage: (pm) => heard.push(pm),
    onClose: (err) => closed.push(err?.code ?? 'clean'),
  };
  return { heard, closed, link: new Link(ctx, medium, sink) };
}

describe('@encke/client shared connection: leader election over BroadcastChannel + Web Locks (fake clock)', () => {
  it('the first tab leads; the others link to its hub; one upstream connection', async () => {
    const b = browser();
    const media = [new LeaderMedium(b.env()), new LeaderMedium(b.env()), new LeaderMedium(b.env())];
    await b.clock.advance(0);
    assert.deepEqual(
      media.map((m) => m.leader),
      [true, false, false],
    );
    const links = media.map((m, i) => link(b, m, `tab-${i}`));
    await b.clock.advance(HELLO_MS);
    assert.equal(b.upstreams.length, 1);
    for (const [i, l] of links.entries()) {
      assert.equal(l.heard[0]?.action, Action.CONNECTED, `tab ${i}`);
      assert.equal(l.heard[0]?.connectionDetails?.clientId, `tab-${i}`);
    }
  });

  it('a link with no leader yet says hello every HELLO_MS until one answers', async () => {
    const b = browser();
    // The leader's connection takes a while to start.
    const { leader, release } = slowLeader(b);
    const follower = new LeaderMedium(b.env());
    const l = link(b, follower, 'f');
    const hellos: ToHub[] = [];
    const spy = b.buses.make('encke:test');
    spy.onmessage = (ev) => {
      if (isToHub(ev.data) && ev.data.t === 'open') hellos.push(ev.data);
    };
    await b.clock.advance(HELLO_MS * 4);
    assert.ok(hellos.length >= 4, `${hellos.length} hellos`);
    assert.equal(l.heard.length, 0);
    release();
    await b.clock.advance(HELLO_MS);
    assert.ok(leader.leader);
    assert.equal(l.heard[0]?.action, Action.CONNECTED);
    const count = hellos.length;
    await b.clock.advance(HELLO_MS * 4);
    assert.ok(hellos.length <= count + 1, 'no more hellos once connected');
  });

  it('the leader goes: the next tab continues the connection from the last recovery key, takes over the holders, the links resume', async () => {
    const b = browser();
    const media = [new LeaderMedium(b.env()), new LeaderMedium(b.env()), new LeaderMedium(b.env())];
    const links = media.map((m, i) => link(b, m, `tab-${i}`));
    await b.clock.advance(HELLO_MS);
    // Every tab enters presence on `room` (the hub broadcasts its state as it changes).
    for (const l of links) l.link.send({ action: Action.ATTACH, channel: 'room' });
    await b.clock.advance(0);
    b.upstreams[0]!.receive({ action: Action.ATTACHED, channel: 'room', channelSerial: serial(0) });
    for (const l of links)
      l.link.send({
        action: Action.PRESENCE,
        channel: 'room',
        msgSerial: 0,
        presence: [{ action: PresenceAction.ENTER }],
      });
    await b.clock.advance(0);
    b.upstreams[0]!.receive(message('room', 1));
    await b.clock.advance(0);
    assert.ok(media[1]!.state?.recoveryKey, 'followers have the leader state');

    b.pagehides[0]!(); // the leader tab closes
    await b.clock.advance(STATE_WAIT_MS + HELLO_MS * 2);
    assert.deepEqual(
      media.map((m) => m.leader),
      [false, true, false],
    );
    assert.equal(b.recovered.length, 2);
    // From the leader's last state (sent as it stepped down, after its own member's LEAVE), msgSerial past a margin.
    const recovered = jsonObject(b.recovered[1] ?? '{}');
    assert.equal(recovered.connectionKey, 'conn-1!key');
    assert.equal(recovered.msgSerial, 4 + SERIAL_MARGIN, '3 enters + the LEAVE, then the margin');
    assert.deepEqual(recovered.channelSerials, { room: serial(1) });
    // The closed tab's member left on the old connection before it was dropped.
    assert.deepEqual(
      b.upstreams[0]!.ackable.slice(3).map((e) => [e.pm.presence?.[0]?.action, e.pm.presence?.[0]?.clientId]),
      [[PresenceAction.LEAVE, 'tab-0']],
    );
    // The others' links ended (their connection resumes) …
    for (const l of links.slice(1)) assert.deepEqual(l.closed, [80003]);
    // … and a new link of each is CONNECTED by the new hub, which knows who holds which member.
    const again = media.slice(1).map((m, i) => link(b, m, `tab-${i + 1}`));
    await b.clock.advance(HELLO_MS);
    for (const l of again) assert.equal(l.heard[0]?.action, Action.CONNECTED);
    for (const l of again) l.link.send({ action: Action.ATTACH, channel: 'room', channelSerial: serial(1) });
    await b.clock.advance(0);
    assert.equal(b.upstreams[1]!.sent.filter((p) => p.action === Action.ATTACH).length, 1);
    again[1]!.link.send({ action: Action.CLOSE });
    await b.clock.advance(0);
    assert.deepEqual(
      b.upstreams[1]!.ackable.map((e) => [e.pm.presence?.[0]?.action, e.pm.presence?.[0]?.clientId]),
      [[PresenceAction.LEAVE, 'tab-2']],
      'a holder taken over from the previous leader leaves when its tab closes',
    );
  });
});

describe('@encke/client shared connection: what any script of the origin posts on the BroadcastChannel (fake clock)', () => {
  /** Everything said on the group's channel, as posted. */
  function spy(b: Browser): unknown[] {
    const said: unknown[] = [];
    b.buses.make('encke:test').onmessage = (ev) => void said.push(ev.data);
    return said;
  }
  const to = (m: unknown): unknown => (typeof m === 'object' && m !== null && 'to' in m ? m.to : undefined);

  it('a tab ignores hub messages of another shape: no forged hub takes its link, no forged state or loss counts', async () => {
    const b = browser();
    const { leader, release } = slowLeader(b);
    const follower = new LeaderMedium(b.env());
    const l = link(b, follower, 'f');
    const tab = follower.tab;
    for (const m of [
      { t: 'pm', to: tab, pm: { action: Action.CONNECTED } },
      { t: 'pm', to: tab, hub: 'forged', pm: 'no ProtocolMessage' },
      { t: 'pm', to: tab, hub: 'forged', pm: { action: String(Action.CONNECTED) } },
      { t: 'lost', to: tab, hub: 'forged', error: 'gone', fatal: true },
      { t: 'lost', to: tab, hub: 'forged', error: { message: 'gone', code: '80000', statusCode: 400 }, fatal: true },
      { t: 'state', hub: 'forged', tab: 't', recoveryKey: 5, holders: {} },
      { t: 'state', hub: 'forged', tab: 't', recoveryKey: '{}', holders: { room: { alice: 'tab' } } },
      { t: 'leader' },
      { t: 'unknown', hub: 'forged', to: tab },
      null,
      'leader',
    ])
      b.buses.forge('encke:test', m);
    await b.clock.advance(HELLO_MS);
    assert.equal(l.heard.length, 0, 'nothing reached the link');
    assert.deepEqual(l.closed, [], 'the link did not end');
    assert.equal(follower.state, undefined, 'no state taken from a forged message');
    assert.equal(leader.state, undefined);
    release();
    await b.clock.advance(HELLO_MS);
    assert.equal(l.heard[0]?.action, Action.CONNECTED, 'the real hub connects the link');
  });

  it("a link takes only a known transport's name from its hub", async () => {
    const b = browser();
    const media = [new LeaderMedium(b.env()), new LeaderMedium(b.env())];
    await b.clock.advance(0);
    const links = media.map((m, i) => link(b, m, `tab-${i}`));
    // Before the real hub answers (the hello goes a task later): each link's first hub is this one.
    const connected = { action: Action.CONNECTED, connectionId: 'c' };
    b.buses.forge('encke:test', { t: 'pm', to: media[0]!.tab, hub: 'h', pm: connected, transport: 'bogus' });
    b.buses.forge('encke:test', { t: 'pm', to: media[1]!.tab, hub: 'h', pm: connected, transport: 'xhr_polling' });
    await b.clock.advance(0);
    assert.deepEqual(
      links.map((l) => [l.heard[0]?.connectionId, l.link.name]),
      [
        ['c', 'web_socket'],
        ['c', 'xhr_polling'],
      ],
    );
  });

  it("the leader's hub ignores tab messages of another shape", async () => {
    const b = browser();
    const leader = new LeaderMedium(b.env());
    await b.clock.advance(0);
    assert.ok(leader.leader);
    const said = spy(b);
    const l = link(b, leader, 'mine');
    await b.clock.advance(0);
    assert.equal(l.heard[0]?.action, Action.CONNECTED);
    for (const m of [
      { t: 'open', tab: 42 },
      { t: 'open', tab: 'evil-id', clientId: 7 },
      { t: 'open', tab: 'evil-echo', noEcho: 'yes' },
      { t: 'pm', tab: leader.tab, pm: null },
      { t: 'pm', tab: leader.tab, pm: { action: String(Action.CLOSE) } },
      { t: 'bye', tab: ['x'] },
      { t: 'init' },
      null,
    ])
      b.buses.forge('encke:test', m);
    await b.clock.advance(HELLO_MS);
    assert.deepEqual(
      said.map(to).filter((t) => t !== undefined && t !== leader.tab),
      [],
      'no forged tab was connected',
    );
    assert.deepEqual(l.closed, [], "the real tab's link goes on");
    l.link.send({ action: Action.ATTACH, channel: 'room' });
    await b.clock.advance(0);
    assert.equal(b.upstreams[0]!.sent.filter((p) => p.action === Action.ATTACH).length, 1, 'the hub still routes');
  });
});
