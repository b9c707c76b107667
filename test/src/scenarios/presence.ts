/**
 * Presence with the official SDK: who is online and who is typing. Run once per transport/format
 * variant.
 */
import { dataOf } from '../helpers/field.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type * as Ably from 'ably';
import { Collector, closeAll, connect, connectionState, realtime, sleep, type Variant } from '../helpers/ably.js';
import { KillableProxy } from '../helpers/proxy.js';
import { KEYS, startServer, type TestServer } from '../helpers/server.js';

const FAST_RETRY = { disconnectedRetryTimeout: 100, suspendedRetryTimeout: 100 } as const;

function summary(events: Ably.PresenceMessage[]): string[] {
  return events.map((p) => {
    const data = dataOf(p);
    return `${p.action}:${p.clientId}:${typeof data === 'string' ? data : JSON.stringify(data ?? null)}`;
  });
}

export function presenceScenarios(variants: Variant[], label: string): void {
  for (const variant of variants) {
    describe(`${label}: ${variant.name}`, () => {
      let ts: TestServer;
      before(async () => {
        // A short maxIdleInterval: a comet client between two recvs is only known gone after it.
        ts = await startServer({ presenceSyncPageSize: 5, presenceMaxMembers: 150, maxIdleInterval: 1000 });
      });
      after(async () => {
        await ts.close();
      });

      it('three clients enter, update and leave; subscribers see it in order; a late joiner gets the set', async () => {
        const names = ['ann', 'ben', 'cat'];
        const clients = names.map((clientId) => realtime(ts, variant, { clientId }));
        const observer = realtime(ts, variant, { clientId: 'observer' });
        let late: Ably.Realtime | undefined;
        try {
          await Promise.all([...clients, observer].map(connect));
          const seen = new Collector<Ably.PresenceMessage>();
          await observer.channels.get('room').presence.subscribe(seen.listener);
          for (const [i, c] of clients.entries()) await c.channels.get('room').presence.enter(`hello from ${names[i]}`);
          await clients[1]!.channels.get('room').presence.update({ status: 'away' });
          await clients[2]!.channels.get('room').presence.leave('bye');
          await seen.waitFor(5);
          assert.deepEqual(summary(seen.items), [
            'enter:ann:hello from ann',
            'enter:ben:hello from ben',
            'enter:cat:hello from cat',
            'update:ben:{"status":"away"}',
            'leave:cat:bye',
          ]);
          const enter = seen.items[0]!;
          assert.equal(enter.connectionId, clients[0]!.connection.id);
          assert.ok(enter.id && enter.id.startsWith(`${clients[0]!.connection.id}:`));
          assert.ok(typeof enter.timestamp === 'number' && enter.timestamp > 0);
          late = await connect(realtime(ts, variant, { clientId: 'late' }));
          const members = await late.channels.get('room').presence.get();
          assert.deepEqual(members.map((m) => `${m.clientId}:${JSON.stringify(dataOf(m))}`).sort(), [
            'ann:"hello from ann"',
            'ben:{"status":"away"}',
          ]);
          assert.ok(members.every((m) => m.action === 'present'));
        } finally {
          await closeAll(...clients, observer, ...(late ? [late] : []));
        }
      });

      it('syncs a set larger than one SYNC page', async () => {
        const owner = await connect(realtime(ts, variant));
        const late = await connect(realtime(ts, variant));
        try {
          const ch = owner.channels.get('big-room');
          await Promise.all(Array.from({ length: 23 }, (_, i) => ch.presence.enterClient(`member-${i}`, { n: i })));
          const members = await late.channels.get('big-room').presence.get();
          assert.equal(members.length, 23);
          assert.deepEqual(
            members.map((m) => m.clientId).sort(),
            Array.from({ length: 23 }, (_, i) => `member-${i}`).sort(),
          );
        } finally {
          await closeAll(owner, late);
        }
      });

      it('enterClient works for a key without a clientId and is refused for another identity', async () => {
        const wildcard = await connect(realtime(ts, variant));
        const alice = await connect(realtime(ts, variant, { clientId: 'alice' }));
        try {
          await wildcard.channels.get('proxy-room').presence.enterClient('someone', 'on behalf');
          const members = await alice.channels.get('proxy-room').presence.get();
          assert.deepEqual(
            members.map((m) => m.clientId),
            ['someone'],
          );
          await assert.rejects(
            alice.channels.get('proxy-room').presence.enterClient('bob'),
            (err: Ably.ErrorInfo) => err.code === 40012,
          );
          const seen = new Collector<Ably.PresenceMessage>();
          await wildcard.channels.get('proxy-room').presence.subscribe('enter', seen.listener);
          await alice.channels.get('proxy-room').presence.enterClient('alice', 'me');
          await seen.waitFor(1);
          assert.equal((await wildcard.channels.get('proxy-room').presence.get({ clientId: 'alice' })).length, 1);
        } finally {
          await closeAll(wildcard, alice);
        }
      });

      it('refuses presence without the presence capability (40160)', async () => {
        const limited = await connect(realtime(ts, variant, { key: KEYS.subscribeOnly, clientId: 'ro' }));
        try {
          await assert.rejects(
            limited.channels.get('ro-room').presence.enter(),
            (err: Ably.ErrorInfo) => err.code === 40160,
          );
        } finally {
          await closeAll(limited);
        }
      });

      it('a member whose connection closes leaves at once; one that detaches leaves too', async () => {
        const leaver = await connect(
          realtime(ts, variant, {
            clientId: 'leaver',
            transportParams: { ...(variant.transportParams ?? {}), remainPresentFor: 20_000 },
          }),
        );
        const detacher = await connect(realtime(ts, variant, { clientId: 'detacher' }));
        const observer = await connect(realtime(ts, variant));
        try {
          const seen = new Collector<Ably.PresenceMessage>();
          await observer.channels.get('exits').presence.subscribe(seen.listener);
          await leaver.channels.get('exits').presence.enter();
          await detacher.channels.get('exits').presence.enter();
          await seen.waitFor(2);
          const started = Date.now();
          await closeAll(leaver);
          await detacher.channels.get('exits').detach();
          await seen.waitFor(4, 5000);
          assert.ok(Date.now() - started < 5000, 'no remainPresentFor wait on close');
          assert.deepEqual(summary(seen.items.slice(2)).sort(), ['leave:detacher:null', 'leave:leaver:null']);
        } finally {
          await closeAll(leaver, detacher, observer);
        }
      });

      it('an abrupt drop leaves after remainPresentFor; a resume within it produces no leave', async () => {
        const params = { ...(variant.transportParams ?? {}), remainPresentFor: 600 };
        const dropProxy = await KillableProxy.start(ts.port);
        const resumeProxy = await KillableProxy.start(ts.port);
        const dropped = realtime(ts, variant, {
          port: dropProxy.port,
          clientId: 'dropped',
          transportParams: params,
          ...FAST_RETRY,
        });
        const resumer = realtime(ts, variant, {
          port: resumeProxy.port,
          clientId: 'resumer',
          transportParams: { ...params, remainPresentFor: 3000 },
          ...FAST_RETRY,
        });
        const observer = await connect(realtime(ts, variant));
        try {
          await Promise.all([connect(dropped), connect(resumer)]);
          const seen = new Collector<Ably.PresenceMessage>();
          await observer.channels.get('drops').presence.subscribe(seen.listener);
          await dropped.channels.get('drops').presence.enter('d');
          await resumer.channels.get('drops').presence.enter('r');
          await seen.waitFor(2);
          // The resumer's transport dies but it comes straight back: no leave.
          resumeProxy.killAll();
          await connectionState(resumer, 'disconnected');
          await connectionState(resumer, 'connected');
          // The dropped client cannot come back.
          dropProxy.block();
          const droppedAt = Date.now();
          await seen.waitFor(3, 5000);
          const waited = Date.now() - droppedAt;
          assert.deepEqual(summary(seen.items.slice(2)), ['leave:dropped:d']);
          assert.ok(waited >= 450, `left after remainPresentFor (${waited} ms)`);
          const leave = seen.items[2]!;
          assert.ok(!leave.id!.startsWith(leave.connectionId!), 'server-synthesised leave id');
          await sleep(3500);
          assert.equal(seen.items.length, 3, 'no leave for the resumed member');
          const members = await observer.channels.get('drops').presence.get();
          assert.deepEqual(
            members.map((m) => m.clientId),
            ['resumer'],
          );
        } finally {
          dropped.close();
          await closeAll(resumer, observer);
          await dropProxy.close();
          await resumeProxy.close();
        }
      });

      it('typing indicator among 100 members: {typing:true} then {typing:false} reach a subscriber in order', async () => {
        const crowd = await connect(realtime(ts, variant));
        const typer = await connect(realtime(ts, variant, { clientId: 'typer' }));
        const reader = await connect(realtime(ts, variant, { clientId: 'reader' }));
        try {
          const room = crowd.channels.get('typing');
          await Promise.all(
            Array.from({ length: 99 }, (_, i) => room.presence.enterClient(`user-${i}`, { typing: false })),
          );
          await typer.channels.get('typing').presence.enter({ typing: false });
          const updates = new Collector<Ably.PresenceMessage>();
          await reader.channels.get('typing').presence.subscribe('update', updates.listener);
          assert.equal((await reader.channels.get('typing').presence.get()).length, 100);
          await typer.channels.get('typing').presence.update({ typing: true });
          await typer.channels.get('typing').presence.update({ typing: false });
          await updates.waitFor(2);
          assert.deepEqual(summary(updates.items), ['update:typer:{"typing":true}', 'update:typer:{"typing":false}']);
        } finally {
          await closeAll(crowd, typer, reader);
        }
      });

      it('refuses enters past presenceMaxMembers with 91003', async () => {
        const owner = await connect(realtime(ts, variant));
        try {
          const ch = owner.channels.get('full-room');
          await Promise.all(Array.from({ length: 150 }, (_, i) => ch.presence.enterClient(`m${i}`)));
          await assert.rejects(ch.presence.enterClient('one-too-many'), (err: Ably.ErrorInfo) => err.code === 91003);
          await ch.presence.updateClient('m1', 'updates still work');
        } finally {
          await closeAll(owner);
        }
      });
    });
  }
}
