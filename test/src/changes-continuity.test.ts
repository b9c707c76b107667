/**
 * Changes to messages across a lost transport: a client whose transport is killed while a message
 * is updated, appended to and annotated resumes and gets exactly those changes, in order, once
 * (updates and appends as they were delivered live, annotations and the summary), over WebSocket
 * (JSON, msgpack) and comet (streaming, long polling); and an SSE API stream resumed with its last
 * event id after an update repeats nothing.
 */
import { dataOf } from './helpers/field.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as Ably from 'ably';
import {
  COMET_VARIANTS,
  Collector,
  WS_VARIANTS,
  closeAll,
  connect,
  connectionState,
  realtime,
  rest,
  sleep,
} from './helpers/ably.js';
import { EventStreamReader } from './helpers/event-stream.js';
import { jsonObject, objectField } from './helpers/json.js';
import { KillableProxy } from './helpers/proxy.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

const FAST_RETRY = { disconnectedRetryTimeout: 100, suspendedRetryTimeout: 100, realtimeRequestTimeout: 3000 } as const;

for (const variant of [...WS_VARIANTS, ...COMET_VARIANTS]) {
  describe(`changes across a resume: ${variant.name}`, () => {
    let ts: TestServer;
    before(async () => {
      ts = await startServer();
    });
    after(async () => {
      await ts.close();
    });

    it('a resumed client gets the update, append, annotations and summary it missed, once each', async () => {
      const name = `mutable:resume-${variant.format}-${variant.transport}-${variant.transportParams ? 'poll' : 'x'}`;
      const proxy = await KillableProxy.start(ts.port);
      const reader = realtime(ts, variant, { port: proxy.port, clientId: 'reader', ...FAST_RETRY });
      const writer = rest(ts, 'json', { clientId: 'writer' }).channels.get(name);
      try {
        await connect(reader);
        const id = reader.connection.id;
        const ch = reader.channels.get(name, { modes: ['subscribe', 'annotation_subscribe'] });
        const messages = new Collector<Ably.InboundMessage>();
        const annotations = new Collector<Ably.Annotation>();
        await ch.subscribe(messages.listener);
        await ch.annotations.subscribe(annotations.listener);
        const { serials } = await writer.publish('doc', 'v1');
        await messages.waitFor(1);

        proxy.block();
        await connectionState(reader, 'disconnected');
        const serial = serials[0]!;
        await writer.updateMessage({ serial, data: 'v2' } as Ably.Message);
        await writer.appendMessage({ serial, data: '+' } as Ably.Message);
        await writer.annotations.publish(serial, { type: 'seen:flag.v1' });
        proxy.unblock();
        await connectionState(reader, 'connected');
        assert.equal(reader.connection.id, id, 'resumed');

        await messages.waitFor(4);
        await annotations.waitFor(1);
        await sleep(200);
        assert.deepEqual(
          messages.items.map((m) => [m.action, dataOf(m)]),
          [
            ['message.create', 'v1'],
            ['message.update', 'v2'],
            ['message.append', '+'],
            ['message.summary', undefined],
          ],
        );
        assert.deepEqual(
          annotations.items.map((a) => [a.type, a.clientId, a.messageSerial]),
          [['seen:flag.v1', 'writer', serial]],
        );
        assert.deepEqual(messages.items[3]!.annotations.summary, {
          'seen:flag.v1': { total: 1, clientIds: ['writer'], clipped: false },
        });
      } finally {
        await closeAll(reader);
        await proxy.close();
      }
    });
  });
}

describe('changes on the SSE API', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer();
  });
  after(async () => {
    await ts.close();
  });

  it('streams updates and summaries as message events; a resume after an update repeats nothing', async () => {
    const name = 'mutable:sse';
    const url = (extra = ''): string =>
      `http://127.0.0.1:${ts.port}/sse?channels=${encodeURIComponent(name)}&v=1.2&key=${encodeURIComponent(KEYS.full)}${extra}`;
    const writer = rest(ts, 'json', { clientId: 'w' }).channels.get(name);
    const first = await EventStreamReader.open(url(), {}, 'sse');
    try {
      await first.until(() => first.lastEventId !== '', 'the initial position');
      const { serials } = await writer.publish('doc', 'v1');
      const { versionSerial } = await writer.updateMessage({ serial: serials[0]!, data: 'v2' } as Ably.Message);
      await writer.annotations.publish(serials[0]!, { type: 'seen:total.v1' });
      const events = await first.eventsNamed('message', 3);
      const parsed = events.map((e) => jsonObject(e.data));
      assert.deepEqual(
        parsed.map((m) => [m.action, m.data]),
        [
          [0, 'v1'],
          [1, 'v2'],
          [4, undefined],
        ],
      );
      assert.equal(objectField(parsed[1]!, 'version').serial, versionSerial);
      assert.equal(events[1]!.lastEventId, versionSerial, "an update's position is its version serial");
      const resumeAt = events[1]!.lastEventId;
      first.cut();
      await writer.publish('doc', 'after');
      const resumed = await EventStreamReader.open(url(`&lastEvent=${encodeURIComponent(resumeAt)}`), {}, 'sse');
      try {
        const again = await resumed.eventsNamed('message', 2);
        const got = again.map((e) => jsonObject(e.data));
        assert.deepEqual(
          got.map((m) => [m.action, m.data]),
          [
            [4, undefined],
            [0, 'after'],
          ],
          'after the update: the summary and the new message, nothing before',
        );
      } finally {
        resumed.cut();
      }
    } finally {
      first.cut();
    }
  });
});
