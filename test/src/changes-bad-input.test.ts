/**
 * Bad updates, deletes, appends and annotations, as tables: each input, the ErrorInfo it must get
 * (code and statusCode), over realtime with the official SDK (WebSocket JSON and msgpack, comet);
 * the connection keeps working after every refusal. The same over REST is in
 * changes-bad-input-rest.test.ts.
 */
import { dataOf } from './helpers/field.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as Ably from 'ably';
import { COMET_VARIANTS, WS_VARIANTS, closeAll, connect, realtime, rest } from './helpers/ably.js';
import { makeJwt } from './helpers/auth.js';
import { FAKE_SERIAL } from './helpers/fake-serial.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

interface Ctx {
  /** A message on a mutable channel, published by clientId `author`. */
  serial: string;
  channel: string;
  ts: TestServer;
  client(spec?: { clientId?: string; capability?: Record<string, string[]> }): Promise<Ably.Realtime>;
}

interface Row {
  label: string;
  code: number;
  status: number;
  run(ctx: Ctx): Promise<unknown>;
}

const update = (ch: Ably.RealtimeChannel, serial: string, data: unknown = 'x'): Promise<unknown> =>
  ch.updateMessage({ serial, data } as Ably.Message);

const REALTIME: Row[] = [
  {
    label: 'update on a channel without mutableMessages',
    code: 93002,
    status: 400,
    run: async (c) => update((await c.client()).channels.get('plain'), c.serial),
  },
  {
    label: 'update of an unknown serial',
    code: 40400,
    status: 404,
    run: async (c) => update((await c.client()).channels.get(c.channel), FAKE_SERIAL),
  },
  {
    label: 'update of a malformed serial',
    code: 40400,
    status: 404,
    run: async (c) => update((await c.client()).channels.get(c.channel), 'not-a-serial'),
  },
  {
    label: 'update without message-update capability',
    code: 40160,
    status: 401,
    run: async (c) =>
      update(
        (await c.client({ capability: { 'mutable:*': ['publish', 'subscribe'] } })).channels.get(c.channel),
        c.serial,
      ),
  },
  {
    label: 'update with only message-update-own, unidentified',
    code: 40166,
    status: 401,
    run: async (c) =>
      update(
        (await c.client({ capability: { 'mutable:*': ['publish', 'message-update-own'] } })).channels.get(c.channel),
        c.serial,
      ),
  },
  {
    label: "update of another client's message with only message-update-own",
    code: 40160,
    status: 401,
    run: async (c) =>
      update(
        (
          await c.client({ clientId: 'mallory', capability: { 'mutable:*': ['publish', 'message-update-own'] } })
        ).channels.get(c.channel),
        c.serial,
      ),
  },
  {
    label: 'delete with only message-update-any',
    code: 40160,
    status: 401,
    run: async (c) =>
      (await c.client({ capability: { 'mutable:*': ['publish', 'message-update-any'] } })).channels
        .get(c.channel)
        .deleteMessage({ serial: c.serial } as Ably.Message),
  },
  {
    label: 'append of binary to a string',
    code: 40013,
    status: 400,
    run: async (c) =>
      (await c.client()).channels
        .get(c.channel)
        .appendMessage({ serial: c.serial, data: Buffer.from('x') } as Ably.Message),
  },
  {
    label: 'update past maxMessageSize',
    code: 40009,
    status: 400,
    run: async (c) => update((await c.client()).channels.get(c.channel), c.serial, 'y'.repeat(70_000)),
  },
  {
    label: 'update on an attachment without PUBLISH',
    code: 40165,
    status: 401,
    run: async (c) => {
      const ch = (await c.client()).channels.get(c.channel, { modes: ['subscribe'] });
      await ch.attach();
      return update(ch, c.serial);
    },
  },
  {
    label: 'a client-sent summary',
    code: 40003,
    status: 400,
    run: async (c) =>
      (await c.client()).channels.get(c.channel).publish({ name: 'x', action: 'message.summary' } as Ably.Message),
  },
  {
    label: 'an update in a publish of several messages',
    code: 40003,
    status: 400,
    run: async (c) =>
      (await c.client()).channels
        .get(c.channel)
        .publish([{ name: 'new' }, { serial: c.serial, action: 'message.update' } as Ably.Message]),
  },
  {
    label: 'an update in a publish of several messages, without mutableMessages',
    code: 93002,
    status: 400,
    run: async (c) =>
      (await c.client()).channels
        .get('plain')
        .publish([{ name: 'new' }, { serial: c.serial, action: 'message.update' } as Ably.Message]),
  },
  {
    label: 'annotation on a channel without mutableMessages',
    code: 93002,
    status: 400,
    run: async (c) => (await c.client()).channels.get('plain').annotations.publish(c.serial, { type: 'r:total.v1' }),
  },
  {
    label: 'annotation without annotation-publish',
    code: 40160,
    status: 401,
    run: async (c) =>
      (await c.client({ capability: { 'mutable:*': ['publish', 'subscribe'] } })).channels
        .get(c.channel)
        .annotations.publish(c.serial, { type: 'r:total.v1' }),
  },
  {
    label: 'annotation of an unknown serial',
    code: 40400,
    status: 404,
    run: async (c) =>
      (await c.client()).channels.get(c.channel).annotations.publish(FAKE_SERIAL, { type: 'r:total.v1' }),
  },
  {
    label: 'annotation of an unknown summarization',
    code: 40003,
    status: 400,
    run: async (c) =>
      (await c.client()).channels.get(c.channel).annotations.publish(c.serial, { type: 'reaction:emoji.v1' }),
  },
  {
    label: 'flag annotation by an unidentified client',
    code: 40161,
    status: 401,
    run: async (c) => (await c.client()).channels.get(c.channel).annotations.publish(c.serial, { type: 'r:flag.v1' }),
  },
  {
    label: 'annotation on an attachment without ANNOTATION_PUBLISH',
    code: 40165,
    status: 401,
    run: async (c) => {
      const ch = (await c.client()).channels.get(c.channel, { modes: ['subscribe', 'publish'] });
      await ch.attach();
      return ch.annotations.publish(c.serial, { type: 'r:total.v1' });
    },
  },
];

for (const variant of [...WS_VARIANTS, COMET_VARIANTS[0]!]) {
  describe(`bad message changes over realtime: ${variant.name}`, () => {
    let ts: TestServer;
    const clients: Ably.Realtime[] = [];
    let ctx: Ctx;
    before(async () => {
      ts = await startServer();
      const channel = `mutable:bad-${variant.format}-${variant.transport}`;
      const author = rest(ts, 'json', { clientId: 'author' });
      const { serials } = await author.channels.get(channel).publish('m', 'text');
      ctx = {
        serial: serials[0]!,
        channel,
        ts,
        client: async (spec) => {
          const options: Ably.ClientOptions = spec ? { key: undefined, token: makeJwt(KEYS.full, spec) } : {};
          const c = await connect(realtime(ts, variant, options));
          clients.push(c);
          return c;
        },
      };
    });
    after(async () => {
      await closeAll(...clients);
      await ts.close();
    });

    for (const row of REALTIME) {
      it(`${row.label}: ${row.code}`, async () => {
        await assert.rejects(row.run(ctx), (e: Ably.ErrorInfo) => {
          assert.equal(e.code, row.code, e.message);
          assert.equal(e.statusCode, row.status, e.message);
          return true;
        });
        const last = clients[clients.length - 1]!;
        assert.equal(last.connection.state, 'connected', 'the connection survives');
        await last.channels.get(`mutable:after-${clients.length}`).publish('still', 'fine');
      });
    }

    it('the message is unchanged by every refusal', async () => {
      const latest = await rest(ts, variant.format).channels.get(ctx.channel).getMessage(ctx.serial);
      assert.equal(latest.action, 'message.create');
      assert.equal(dataOf(latest), 'text');
    });
  });
}
