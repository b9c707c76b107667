/**
 * The engine contract for message chains (engine/message-chain.ts): a published message read back
 * with its latest form, changes appended by compare-and-set (`amend`), their serials and versions,
 * the chain read back (`chain`), history and rewind showing each message as it now stands while a
 * replay keeps every event, and chains leaving with their messages. Run by `engineSuite` for every
 * engine.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AnnotationAction, MessageAction, type Message } from '@encke/protocol';
import { parseSerial, type AmendOutcome, type ChannelEvent, type ChannelEventInput, type Engine } from '@encke/server';
import { FakeClock } from '@encke/server/internal';
import type { EngineFactory } from './suite.js';

function appended(outcome: AmendOutcome): ChannelEvent[] {
  assert.ok(typeof outcome === 'object', `amend answered ${String(outcome)}`);
  return outcome.events;
}

export function chainEngineSuite(name: string, factory: EngineFactory): void {
  describe(`engine contract (message chains): ${name}`, () => {
    let clock: FakeClock;
    let engine: Engine;
    let delivered: ChannelEvent[];
    let key: (ch: string) => string;

    beforeEach(async () => {
      clock = new FakeClock(1_700_000_000_000);
      engine = await factory({ clock, logMaxCount: 8, logMaxAge: 60_000 });
      delivered = [];
      await engine.start({
        onChannelEvent: (_k, e) => delivered.push(e),
        onResync: () => undefined,
        onRevocation: () => undefined,
        onTakeover: () => undefined,
      });
      const app = `app${Math.random().toString(36).slice(2, 8)}`;
      key = (ch) => `${app}:${ch}`;
    });
    afterEach(async () => {
      await engine.close();
    });

    const publish = async (ch: string, ...names: string[]): Promise<string[]> =>
      (
        await engine.channels.publish(key(ch), {
          kind: 'message',
          timestamp: clock.now(),
          messages: names.map((n) => ({
            name: n,
            data: `data-${n}`,
            clientId: 'author',
            action: MessageAction.CREATE,
          })),
        })
      ).serials;
    const change = (serial: string, latest: Message, action: number, fields: Partial<Message>): ChannelEventInput => ({
      kind: 'message',
      connectionId: 'changer',
      timestamp: clock.now(),
      messages: [
        { ...latest, ...fields, action, serial, version: { timestamp: clock.now(), description: `did ${action}` } },
      ],
    });

    it('reads a published message as its own latest form, and nothing else', async () => {
      const [a, b] = await publish('m', 'a', 'b');
      const stored = await engine.channels.message(key('m'), b!);
      assert.equal(stored!.original.name, 'b');
      assert.equal(stored!.latest, stored!.original);
      assert.equal(stored!.token, parseSerial(b!.slice(0, b!.lastIndexOf(':')))!.seq);
      const { epoch, seq } = parseSerial(a!.slice(0, a!.lastIndexOf(':')))!;
      for (const unknown of [
        `${epoch}-${(seq + 5).toString(36).padStart(11, '0')}:000`,
        `${a!.slice(0, -3)}009`,
        `other-${a!.split('-')[1]}`,
        'garbage',
      ]) {
        assert.equal(await engine.channels.message(key('m'), unknown), null, unknown);
      }
      assert.equal(await engine.channels.message(key('nowhere'), a!), null);
    });

    it('appends a change if the message is unchanged, with its version serial; a stale token retries', async () => {
      const [serial] = await publish('u', 'orig');
      await engine.channels.subscribe(key('u'));
      const before = (await engine.channels.message(key('u'), serial!))!;
      const [ev] = appended(
        await engine.channels.amend(key('u'), {
          serial: serial!,
          token: before.token,
          events: [change(serial!, before.latest, MessageAction.UPDATE, { data: 'new' })],
        }),
      );
      const msg = ev!.messages![0]!;
      assert.equal(msg.serial, serial, 'the change keeps the serial of the message it changes');
      assert.equal(msg.version!.serial, `${ev!.serial}:000`);
      assert.ok(msg.version!.serial! > serial!);
      assert.equal(
        await engine.channels.amend(key('u'), {
          serial: serial!,
          token: before.token,
          events: [change(serial!, before.latest, MessageAction.DELETE, {})],
        }),
        'retry',
      );
      const now = (await engine.channels.message(key('u'), serial!))!;
      assert.equal(now.token, ev!.seq);
      assert.equal(now.latest.data, 'new');
      assert.equal(now.latest.version!.serial, msg.version!.serial);
      assert.equal(now.original.data, 'data-orig');
      const deadline = Date.now() + 5000;
      while (delivered.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.equal(delivered.length, 1, 'the change fans out; the refused one does not');
      assert.equal(delivered[0]!.messages![0]!.version!.serial, msg.version!.serial);
      assert.equal(delivered[0]!.messages![0]!.serial, serial);
    });

    it('lets exactly one of two concurrent changes from the same state through', async () => {
      const [serial] = await publish('race', 'x');
      const s = (await engine.channels.message(key('race'), serial!))!;
      const outcomes = await Promise.all(
        [1, 2].map((i) =>
          engine.channels.amend(key('race'), {
            serial: serial!,
            token: s.token,
            events: [change(serial!, s.latest, MessageAction.UPDATE, { data: `v${i}` })],
          }),
        ),
      );
      assert.deepEqual(outcomes.map((o) => (typeof o === 'object' ? 'ok' : o)).sort(), ['ok', 'retry']);
    });

    it('keeps an append as the fragment it delivered and the message as it stands; history and rewind show the latter, replay the former', async () => {
      const [serial, other] = await publish('ap', 'text', 'other');
      const s = (await engine.channels.message(key('ap'), serial!))!;
      const full = {
        ...s.latest,
        data: Buffer.from('data-text+more'),
        action: MessageAction.UPDATE,
        version: { timestamp: clock.now() },
      };
      const input = change(serial!, s.latest, MessageAction.APPEND, { data: Buffer.from('+more') });
      const [ev] = appended(
        await engine.channels.amend(key('ap'), { serial: serial!, token: s.token, events: [{ ...input, full }] }),
      );
      const latest = (await engine.channels.message(key('ap'), serial!))!.latest;
      assert.deepEqual(Buffer.from(latest.data as Uint8Array), Buffer.from('data-text+more'));
      assert.equal(latest.action, MessageAction.UPDATE);
      assert.equal(latest.version!.serial, `${ev!.serial}:000`, "the whole message carries the append's version");
      const page = await engine.channels.history(key('ap'), { kind: 'message', direction: 'forwards', limit: 10 });
      assert.deepEqual(
        page.entries.map((e) => e.event.messages![e.index]!.name),
        ['text', 'other'],
        'changes are not history items of their own',
      );
      assert.equal(page.entries[0]!.event.messages![0]!.action, MessageAction.UPDATE);
      const back = await engine.channels.history(key('ap'), { kind: 'message', direction: 'backwards', limit: 1 });
      assert.equal(back.entries[0]!.event.messages![back.entries[0]!.index]!.serial, other);
      const rewound = await engine.channels.attachState(key('ap'), {
        rewind: { count: 1 },
        replayLimit: 100,
        members: false,
      });
      assert.deepEqual(
        rewound.rewound!.map((e) => e.messages!.map((m) => m.name)),
        [['text', 'other']],
      );
      assert.equal(rewound.rewound![0]!.messages![0]!.action, MessageAction.UPDATE);
      const h = parseSerial(serial!.slice(0, serial!.lastIndexOf(':')))!;
      const replay = await engine.channels.readAfter(key('ap'), h.epoch, h.seq, 100);
      assert.deepEqual(
        Buffer.from(replay.events[0]!.messages![0]!.data as Uint8Array),
        Buffer.from('+more'),
        'a replay delivers the fragment',
      );
      assert.equal(replay.events[0]!.messages![0]!.action, MessageAction.APPEND);
    });

    it('appends annotations and the summary after them atomically; the chain lists versions and annotations', async () => {
      const [serial] = await publish('ann', 'post');
      let s = (await engine.channels.message(key('ann'), serial!))!;
      const annotations = [
        {
          action: AnnotationAction.CREATE,
          type: 'r:total.v1',
          messageSerial: serial!,
          clientId: 'c',
          timestamp: clock.now(),
        },
      ];
      const summary = { 'r:total.v1': { total: 1 } };
      const events = appended(
        await engine.channels.amend(key('ann'), {
          serial: serial!,
          token: s.token,
          events: [
            { kind: 'annotation', timestamp: clock.now(), annotations },
            {
              kind: 'message',
              timestamp: clock.now(),
              messages: [{ action: MessageAction.SUMMARY, serial: serial!, annotations: { summary } }],
              full: { ...s.latest, annotations: { summary } },
            },
          ],
        }),
      );
      assert.equal(events[1]!.seq, events[0]!.seq + 1);
      assert.equal(events[0]!.annotations![0]!.serial, `${events[0]!.serial}:000`);
      s = (await engine.channels.message(key('ann'), serial!))!;
      assert.deepEqual(s.latest.annotations, { summary });
      assert.equal(s.latest.action, MessageAction.CREATE, 'a summary makes no version');
      assert.equal(s.token, events[1]!.seq);
      const [up] = appended(
        await engine.channels.amend(key('ann'), {
          serial: serial!,
          token: s.token,
          events: [change(serial!, s.latest, MessageAction.UPDATE, { name: 'edited' })],
        }),
      );
      const chain = (await engine.channels.chain(key('ann'), serial!))!;
      assert.deepEqual(
        chain.versions.map((v) => [v.action, v.name]),
        [
          [MessageAction.CREATE, 'post'],
          [MessageAction.UPDATE, 'edited'],
        ],
      );
      assert.equal(chain.versions[1]!.version!.serial, up!.messages![0]!.version!.serial);
      assert.deepEqual(
        chain.annotations.map((a) => [a.type, a.serial]),
        [['r:total.v1', events[0]!.annotations![0]!.serial]],
      );
      assert.deepEqual(await engine.channels.chain(key('ann'), serial!.replace(/:000$/, ':001')), null);
      const page = await engine.channels.history(key('ann'), { kind: 'message', direction: 'backwards', limit: 10 });
      assert.equal(page.entries.length, 1);
      assert.deepEqual(page.entries[0]!.event.messages![0]!.annotations, { summary });
    });

    it('forgets a message, and its chain, once its original leaves the log', async () => {
      const [serial] = await publish('trim', 'first');
      const s = (await engine.channels.message(key('trim'), serial!))!;
      appended(
        await engine.channels.amend(key('trim'), {
          serial: serial!,
          token: s.token,
          events: [change(serial!, s.latest, MessageAction.UPDATE, { data: 'x' })],
        }),
      );
      for (let i = 0; i < 8; i++) await publish('trim', `n${i}`);
      assert.equal(await engine.channels.message(key('trim'), serial!), null);
      assert.equal(await engine.channels.chain(key('trim'), serial!), null);
      assert.equal(
        await engine.channels.amend(key('trim'), {
          serial: serial!,
          token: s.token,
          events: [change(serial!, s.latest, MessageAction.UPDATE, {})],
        }),
        'gone',
      );
      const page = await engine.channels.history(key('trim'), { kind: 'message', direction: 'forwards', limit: 100 });
      assert.deepEqual(
        page.entries.map((e) => e.event.messages![e.index]!.name),
        ['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'],
      );
    });
  });
}
