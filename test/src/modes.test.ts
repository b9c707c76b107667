/**
 * Channel modes requested at attach (RTL4l, TB2d): the server grants them, and refuses what they
 * leave out: a publish without PUBLISH and presence without PRESENCE get 40165 (statusCode 401,
 * ably-common errors/codes/40165.md); nothing is delivered without SUBSCRIBE / PRESENCE_SUBSCRIBE.
 * Run with the official SDK over WebSocket (JSON, msgpack) and comet (streaming, long polling).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as Ably from 'ably';
import { COMET_VARIANTS, Collector, WS_VARIANTS, closeAll, connect, realtime, sleep } from './helpers/ably.js';
import { startServer, type TestServer } from './helpers/server.js';

type Outcome = 'ok' | 40165;
interface Row {
  label: string;
  options: Ably.ChannelOptions;
  /** The modes ATTACHED grants, as channel.modes. */
  granted: string[];
  publish: Outcome;
  enter: Outcome;
  messages: boolean;
  presence: boolean;
}

const ALL_DEFAULT = ['publish', 'subscribe', 'presence', 'presence_subscribe', 'annotation_publish'];

const TABLE: Row[] = [
  {
    label: 'subscribe',
    options: { modes: ['subscribe'] },
    granted: ['subscribe'],
    publish: 40165,
    enter: 40165,
    messages: true,
    presence: false,
  },
  {
    label: 'publish',
    options: { modes: ['publish'] },
    granted: ['publish'],
    publish: 'ok',
    enter: 40165,
    messages: false,
    presence: false,
  },
  {
    label: 'presence',
    options: { modes: ['presence'] },
    granted: ['presence'],
    publish: 40165,
    enter: 'ok',
    messages: false,
    presence: false,
  },
  {
    label: 'presence_subscribe',
    options: { modes: ['presence_subscribe'] },
    granted: ['presence_subscribe'],
    publish: 40165,
    enter: 40165,
    messages: false,
    presence: true,
  },
  {
    label: 'publish + subscribe',
    options: { modes: ['publish', 'subscribe'] },
    granted: ['publish', 'subscribe'],
    publish: 'ok',
    enter: 40165,
    messages: true,
    presence: false,
  },
  {
    label: 'modes param',
    options: { params: { modes: 'presence,presence_subscribe' } },
    granted: ['presence', 'presence_subscribe'],
    publish: 40165,
    enter: 'ok',
    messages: false,
    presence: true,
  },
  {
    label: 'no modes (defaults)',
    options: {},
    granted: ALL_DEFAULT,
    publish: 'ok',
    enter: 'ok',
    messages: true,
    presence: true,
  },
];

async function outcome(op: Promise<unknown>): Promise<Outcome> {
  try {
    await op;
    return 'ok';
  } catch (err) {
    const e = err as Ably.ErrorInfo;
    assert.equal(e.statusCode, 401, `statusCode of ${e.code}: ${e.message}`);
    assert.equal(e.code, 40165, e.message);
    return 40165;
  }
}

for (const variant of [...WS_VARIANTS, ...COMET_VARIANTS]) {
  describe(`channel modes: ${variant.name}`, () => {
    let ts: TestServer;
    let other: Ably.Realtime;
    let n = 0;
    before(async () => {
      ts = await startServer();
      other = await connect(realtime(ts, variant, { clientId: 'other' }));
    });
    after(async () => {
      await closeAll(other);
      await ts.close();
    });

    for (const row of TABLE) {
      it(`${row.label}: publish ${row.publish}, enter ${row.enter}, messages ${row.messages}, presence ${row.presence}`, async () => {
        const name = `modes-${variant.format}-${variant.transport}-${++n}`;
        const client = await connect(realtime(ts, variant, { clientId: 'me' }));
        try {
          const channel = client.channels.get(name, row.options);
          await channel.attach();
          assert.deepEqual([...channel.modes].sort(), [...row.granted].sort());
          const messages = new Collector();
          const presence = new Collector<Ably.PresenceMessage>();
          await channel.subscribe(messages.listener);
          await channel.presence.subscribe(presence.listener);

          assert.equal(await outcome(channel.publish('mine', 'x')), row.publish);
          assert.equal(await outcome(channel.presence.enter('here')), row.enter);

          // A control attachment with default modes sees the other client's message and presence
          // event; by then the attachment under test has had them too, if its modes allow.
          const control = other.channels.get(name);
          const seen = new Collector();
          const seenPresence = new Collector<Ably.PresenceMessage>();
          await control.subscribe('probe', seen.listener);
          await control.presence.subscribe(seenPresence.listener);
          await control.publish('probe', 'p');
          await control.presence.enter('p');
          await seen.waitFor(1);
          await seenPresence.waitFor(1);
          await sleep(100);
          assert.equal(
            messages.items.some((m) => m.name === 'probe'),
            row.messages,
            'probe message delivered',
          );
          assert.equal(
            presence.items.some((p) => p.clientId === 'other'),
            row.presence,
            'probe presence delivered',
          );
          await control.presence.leave();
          await control.detach();
        } finally {
          await closeAll(client);
        }
      });
    }
  });
}
