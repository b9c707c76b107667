/**
 * The pure parts of @encke/client's shared connection (packages/client/src/shared): the hub's
 * routing between tabs and the one upstream connection (a scripted upstream). Leader election with
 * handover is in shared-election.test.ts; the browser paths run in test/src/browser-shared.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Realtime, type TransportContext } from '@encke/client';
import type { ProtocolMessage } from '@encke/protocol';
import { Action, Flag, PresenceAction } from '@encke/protocol';
import { kit } from '@encke/client/internal/kit';
import { resolveOptions } from '@encke/client/internal/options';
import { Hub } from '@encke/client/internal/shared/hub';
import { workerMedium } from '@encke/client/internal/shared/worker-port';
import { before as serialBefore, groupName, type ToTab } from '@encke/client/internal/shared/wire';
import { settle } from '../helpers/fake-clock.js';
import { FakeUpstream, message, serial } from '../helpers/fake-upstream.js';

function hubWorld(): {
  up: FakeUpstream;
  hub: Hub;
  posts: ToTab[];
  to(tab: string): ProtocolMessage[];
  tabSay(tab: string, pm: ProtocolMessage): void;
} {
  const up = new FakeUpstream();
  const posts: ToTab[] = [];
  const hub = new Hub(kit, up, (m) => posts.push(structuredClone(m)), 'hub-1');
  return {
    up,
    hub,
    posts,
    to: (tab) => posts.flatMap((m) => (m.t === 'pm' && m.to === tab ? [m.pm] : [])),
    tabSay: (tab, pm) => hub.receive({ t: 'pm', tab, pm }),
  };
}

const numbers = (pms: ProtocolMessage[]): number[] =>
  pms.filter((p) => p.action === Action.MESSAGE).map((p) => Number(p.messages?.[0]?.data));

describe('@encke/client shared connection: the hub routes between tabs and one connection', () => {
  it('each tab is CONNECTED on the shared connection with its own clientId and no idle deadline', () => {
    const w = hubWorld();
    w.hub.receive({ t: 'open', tab: 'a', clientId: 'alice' });
    w.hub.receive({ t: 'open', tab: 'b', clientId: 'bob' });
    const [ca] = w.to('a');
    const [cb] = w.to('b');
    assert.equal(ca?.action, Action.CONNECTED);
    assert.equal(ca?.connectionId, 'conn-1');
    assert.equal(cb?.connectionId, 'conn-1');
    assert.equal(ca?.connectionDetails?.clientId, 'alice');
    assert.equal(cb?.connectionDetails?.clientId, 'bob');
    assert.equal(ca?.connectionDetails?.maxIdleInterval, 0);
    assert.equal((w.posts[0] as { transport?: string }).transport, 'web_socket');
  });

  it("a CONNECTED without connectionDetails upstream: the tab's has none either (not a partial ConnectionDetails)", () => {
    const w = hubWorld();
    w.up.details = undefined;
    w.hub.receive({ t: 'open', tab: 'a', clientId: 'alice' });
    const [ca] = w.to('a');
    assert.equal(ca?.action, Action.CONNECTED);
    assert.equal(ca?.connectionId, 'conn-1');
    assert.equal(ca?.connectionDetails, undefined);
  });

  it('a tab waiting while the connection is down is CONNECTED when it comes back; connected tabs lose their link', () => {
    const w = hubWorld();
    w.hub.receive({ t: 'open', tab: 'a' });
    w.up.state = 'disconnected';
    w.hub.onState('disconnected', undefined);
    assert.deepEqual(
      w.posts.filter((m) => m.t === 'lost').map((m) => (m as { to: string }).to),
      ['a'],
    );
    w.hub.receive({ t: 'open', tab: 'a' });
    w.hub.receive({ t: 'open', tab: 'b' });
    w.hub.onState('disconnected', undefined);
    assert.equal(w.posts.filter((m) => m.t === 'lost').length, 1, 'waiting links keep waiting');
    w.up.state = 'connected';
    w.hub.onConnected();
    assert.equal(w.to('a').filter((p) => p.action === Action.CONNECTED).length, 2);
    assert.equal(w.to('b').filter((p) => p.action === Action.CONNECTED).length, 1);
  });

  it('a failed shared connection fails every tab with its reason: connected, waiting and later ones', () => {
    const w = hubWorld();
    w.hub.receive({ t: 'open', tab: 'a' });
    w.up.state = 'disconnected';
    w.hub.onState('disconnected', undefined);
    w.hub.receive({ t: 'open', tab: 'a' });
    w.hub.receive({ t: 'open', tab: 'b' });
    w.up.state = 'failed';
    w.hub.onState('failed', new kit.ErrorInfo('Invalid credentials', 40101, 401));
    w.hub.receive({ t: 'open', tab: 'c' });
    const lost = w.posts.flatMap((m) => (m.t === 'lost' ? [[m.to, m.error.code, m.fatal]] : []));
    assert.deepEqual(lost, [
      ['a', 80003, false],
      ['a', 40101, true],
      ['b', 40101, true],
      ['c', 40101, true],
    ]);
  });

  it('one ATTACH upstream for any number of tabs; each gets ATTACHED and the messages once; DETACH when the last leaves', () => {
    const w = hubWorld();
    for (const t of ['a', 'b', 'c']) w.hub.receive({ t: 'open', tab: t });
    w.tabSay('a', { action: Action.ATTACH, channel: 'x' });
    w.tabSay('b', { action: Action.ATTACH, channel: 'x' });
    assert.deepEqual(
      w.up.sent.map((p) => p.action),
      [Action.ATTACH],
    );
    w.up.receive({ action: Action.ATTACHED, channel: 'x', channelSerial: serial(0) });
    w.up.receive(message('x', 1));
    assert.deepEqual(numbers(w.to('a')), [1]);
    assert.deepEqual(numbers(w.to('b')), [1]);
    assert.deepEqual(numbers(w.to('c')), [], 'a tab that did not attach hears nothing of the channel');
    // A tab that comes later is attached at once, from where the hub is.
    w.tabSay('c', { action: Action.ATTACH, channel: 'x' });
    assert.equal(w.up.sent.length, 1);
    const attached = w.to('c').find((p) => p.action === Action.ATTACHED);
    assert.equal(attached?.channelSerial, serial(1));
    assert.equal((attached?.flags ?? 0) & Flag.RESUMED, 0);
    w.up.receive(message('x', 2));
    assert.deepEqual([numbers(w.to('a')), numbers(w.to('b')), numbers(w.to('c'))], [[1, 2], [1, 2], [2]]);
    for (const t of ['a', 'b']) w.tabSay(t, { action: Action.DETACH, channel: 'x' });
    assert.equal(w.up.sent.length, 1, 'still one tab attached');
    w.tabSay('c', { action: Action.DETACH, channel: 'x' });
    assert.deepEqual(
      w.up.sent.map((p) => p.action),
      [Action.ATTACH, Action.DETACH],
    );
    assert.ok(w.to('c').some((p) => p.action === Action.DETACHED));
  });

  it('publishes go upstream without the tab msgSerial and with its clientId; ACK and NACK come back under the tab serial', async () => {
    const w = hubWorld();
    w.hub.receive({ t: 'open', tab: 'a', clientId: 'alice' });
    w.hub.receive({ t: 'open', tab: 'b', clientId: 'bob' });
    w.tabSay('a', { action: Action.MESSAGE, channel: 'x', msgSerial: 0, messages: [{ name: 'm', data: 'A' }] });
    w.tabSay('b', { action: Action.MESSAGE, channel: 'x', msgSerial: 0, messages: [{ name: 'm', data: 'B' }] });
    w.tabSay('a', {
      action: Action.MESSAGE,
      channel: 'x',
      msgSerial: 1,
      messages: [{ name: 'm', data: 'A2', clientId: 'alice' }],
    });
    assert.deepEqual(
      w.up.ackable.map((e) => [e.pm.msgSerial, e.pm.messages?.[0]?.clientId]),
      [
        [undefined, 'alice'],
        [undefined, 'bob'],
        [undefined, 'alice'],
      ],
    );
    w.up.ackable[0]!.resolve({ serials: ['s0'] });
    w.up.ackable[1]!.reject(new kit.ErrorInfo('no', 40160, 401));
    w.up.ackable[2]!.resolve(undefined);
    await settle();
    const acks = (tab: string): unknown[] =>
      w
        .to(tab)
        .filter((p) => p.action === Action.ACK || p.action === Action.NACK)
        .map((p) => [p.action, p.msgSerial, p.error?.code]);
    assert.deepEqual(acks('a'), [
      [Action.ACK, 0, undefined],
      [Action.ACK, 1, undefined],
    ]);
    assert.deepEqual(acks('b'), [[Action.NACK, 0, 40160]]);
    assert.deepEqual(w.to('a').find((p) => p.action === Action.ACK)?.res, [{ serials: ['s0'] }]);
  });

  it('a tab with echoMessages: false does not get its own messages back; the other tabs do', () => {
    const w = hubWorld();
    w.hub.receive({ t: 'open', tab: 'quiet', noEcho: true });
    w.hub.receive({ t: 'open', tab: 'b' });
    for (const t of ['quiet', 'b']) w.tabSay(t, { action: Action.ATTACH, channel: 'x' });
    w.up.receive({ action: Action.ATTACHED, channel: 'x', channelSerial: serial(0) });
    w.tabSay('quiet', {
      action: Action.MESSAGE,
      channel: 'x',
      msgSerial: 0,
      messages: [
        { id: 'q:0', data: '1' },
        { id: 'q:1', data: '1b' },
      ],
    });
    w.up.receive({
      ...message('x', 1),
      messages: [
        { id: 'q:0', data: '1' },
        { id: 'q:1', data: '1b' },
      ],
    });
    w.up.receive({ ...message('x', 2), messages: [{ id: 'other:0', data: '2' }] });
    assert.deepEqual(numbers(w.to('quiet')), [2]);
    assert.deepEqual(numbers(w.to('b')), [1, 2]);
  });

  it('presence: each tab enters as its clientId; a clientId two tabs hold leaves when the last of them leaves or closes', () => {
    const w = hubWorld();
    for (const [t, c] of [
      ['a', 'alice'],
      ['b', 'alice'],
      ['c', 'carol'],
    ] as const)
      w.hub.receive({ t: 'open', tab: t, clientId: c });
    for (const t of ['a', 'b', 'c']) w.tabSay(t, { action: Action.ATTACH, channel: 'room' });
    w.up.receive({ action: Action.ATTACHED, channel: 'room', channelSerial: serial(0) });
    const enter = (t: string, action: number = PresenceAction.ENTER): void =>
      w.tabSay(t, { action: Action.PRESENCE, channel: 'room', msgSerial: 0, presence: [{ action }] });
    enter('a');
    enter('b');
    enter('c');
    assert.deepEqual(
      w.up.ackable.map((e) => e.pm.presence?.[0]?.clientId),
      ['alice', 'alice', 'carol'],
    );
    enter('a', PresenceAction.LEAVE);
    assert.equal(w.up.ackable.length, 3, 'tab b still holds alice: no LEAVE upstream');
    assert.ok(
      w.to('a').some((p) => p.action === Action.ACK),
      'the held LEAVE is ACKed to the tab',
    );
    w.tabSay('b', { action: Action.CLOSE });
    assert.deepEqual(
      w.up.ackable.slice(3).map((e) => [e.pm.presence?.[0]?.action, e.pm.presence?.[0]?.clientId]),
      [[PresenceAction.LEAVE, 'alice']],
    );
    assert.ok(w.to('b').some((p) => p.action === Action.CLOSED));
    assert.deepEqual(w.hub.holders(), { room: { carol: ['c'] } });
  });

  it('a tab joining an attached channel gets the members as a SYNC of its own', () => {
    const w = hubWorld();
    w.hub.receive({ t: 'open', tab: 'a' });
    w.tabSay('a', { action: Action.ATTACH, channel: 'room' });
    w.up.receive({ action: Action.ATTACHED, channel: 'room', channelSerial: serial(0), flags: Flag.HAS_PRESENCE });
    w.up.receive({
      action: Action.SYNC,
      channel: 'room',
      channelSerial: 'sync1:',
      connectionId: 'other',
      presence: [{ action: PresenceAction.PRESENT, clientId: 'x', data: 'X' }],
    });
    w.up.receive({
      action: Action.PRESENCE,
      channel: 'room',
      channelSerial: serial(1),
      connectionId: 'conn-1',
      presence: [{ action: PresenceAction.ENTER, clientId: 'y' }],
    });
    w.up.receive({
      action: Action.PRESENCE,
      channel: 'room',
      channelSerial: serial(2),
      connectionId: 'third',
      presence: [{ action: PresenceAction.ENTER, clientId: 'z' }],
    });
    w.up.receive({
      action: Action.PRESENCE,
      channel: 'room',
      channelSerial: serial(3),
      connectionId: 'third',
      presence: [{ action: PresenceAction.LEAVE, clientId: 'z' }],
    });
    w.hub.receive({ t: 'open', tab: 'b' });
    w.tabSay('b', { action: Action.ATTACH, channel: 'room' });
    const [attached, sync] = w.to('b').slice(1);
    assert.equal(attached?.action, Action.ATTACHED);
    assert.ok(((attached?.flags ?? 0) & Flag.HAS_PRESENCE) !== 0);
    assert.equal(sync?.action, Action.SYNC);
    assert.equal(sync?.channelSerial?.endsWith(':'), true, 'one page: the sync ends with it');
    assert.deepEqual(sync?.presence?.map((m) => [m.clientId, m.connectionId, m.action]).sort(), [
      ['x', 'other', PresenceAction.PRESENT],
      ['y', 'conn-1', PresenceAction.PRESENT],
    ]);
  });

  it('exactly once per tab: a tab behind makes the hub attach again from its serial; tabs ahead skip the replay', () => {
    const w = hubWorld();
    for (const t of ['a', 'b']) w.hub.receive({ t: 'open', tab: t });
    for (const t of ['a', 'b']) w.tabSay(t, { action: Action.ATTACH, channel: 'x' });
    w.up.receive({ action: Action.ATTACHED, channel: 'x', channelSerial: serial(0) });
    for (let n = 1; n <= 3; n++) w.up.receive(message('x', n));
    // b's link drops after it had 1 (it missed 2 and 3) and comes back from serial 1.
    w.hub.receive({ t: 'bye', tab: 'b' });
    w.hub.receive({ t: 'open', tab: 'b' });
    w.tabSay('b', { action: Action.ATTACH, channel: 'x', channelSerial: serial(1) });
    assert.equal(w.up.sent.at(-1)?.channelSerial, serial(1), 'attached again from the serial of the tab behind');
    w.up.receive({ action: Action.ATTACHED, channel: 'x', channelSerial: serial(1), flags: Flag.RESUMED });
    for (let n = 2; n <= 4; n++) w.up.receive(message('x', n));
    assert.deepEqual(numbers(w.to('a')), [1, 2, 3, 4], 'a: the replay of 2 and 3 is skipped');
    // b's old link had 1..3 posted (2 and 3 never reached the tab, it says); its new link gets 2..4.
    assert.deepEqual(numbers(w.to('b')), [1, 2, 3, 2, 3, 4]);
    // A tab ahead of an attach under way skips what it has.
    w.hub.receive({ t: 'open', tab: 'c' });
    w.tabSay('c', { action: Action.ATTACH, channel: 'x', channelSerial: serial(4) });
    const joined = w.to('c').find((p) => p.action === Action.ATTACHED);
    assert.ok(((joined?.flags ?? 0) & Flag.RESUMED) !== 0, 'continues: RESUMED');
    w.up.receive(message('x', 5));
    assert.deepEqual(numbers(w.to('c')), [5]);
  });

  it('where tabs cannot share (Node: no Web Locks), a client with shareConnection fails with why instead of connecting alone', async () => {
    const client = new Realtime({
      key: 'app.key:secret',
      endpoint: '127.0.0.1',
      port: 9,
      tls: false,
      shareConnection: 'leader',
      rememberTransport: false,
    });
    const change = await client.connection.once('failed');
    assert.equal(change?.reason?.code, 80000);
    assert.match(change?.reason?.message ?? '', /shareConnection needs BroadcastChannel and Web Locks/);
    client.close();
  });

  it("a tab's SharedWorker port: only hub messages reach the links (anything else is ignored)", () => {
    const port = {
      onmessage: null as ((ev: { data: unknown }) => void) | null,
      postMessage: (): void => undefined,
      close: (): void => undefined,
    };
    const g = globalThis as { SharedWorker?: unknown };
    g.SharedWorker = class {
      port = port;
    };
    try {
      const options = resolveOptions({ key: 'app.key:secret', shareConnection: true, sharedWorkerUrl: '/w.js' });
      const medium = workerMedium({ kit, options } as unknown as TransportContext);
      const heard: ToTab[] = [];
      medium.listen((m) => heard.push(m));
      const to = medium.tab;
      for (const data of [
        { t: 'pm', to, hub: 'h', pm: null },
        { t: 'lost', to, hub: 'h', error: { message: 'x' }, fatal: true },
        { t: 'open', tab: to },
        'leader',
        { t: 'leader', hub: 'h' },
      ])
        port.onmessage?.({ data });
      assert.deepEqual(heard, [{ t: 'leader', hub: 'h' }]);
    } finally {
      delete g.SharedWorker;
    }
  });

  it('channelSerials compare within an epoch only', () => {
    assert.equal(serialBefore(serial(1), serial(2)), true);
    assert.equal(serialBefore(serial(2), serial(2)), false);
    assert.equal(serialBefore(serial(10), serial(2)), false);
    assert.equal(serialBefore('ep0-00000000001', 'ep1-00000000002'), false);
    assert.equal(
      groupName(resolveOptions({ key: 'app.key:secret', endpoint: 'h.example', tls: true })),
      'encke:wss://h.example:443/json/app.key',
    );
    assert.ok(!groupName(resolveOptions({ key: 'app.key:secret' })).includes('secret'));
  });
});
