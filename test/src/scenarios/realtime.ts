/**
 * The realtime core driven by the official ably SDK: one scenario table, run once per transport
 * and format variant (WebSocket JSON and msgpack, comet streaming and polling).
 */
import { bytesOf, dataOf } from '../helpers/field.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type * as Ably from 'ably';
import {
  Collector,
  closeAll,
  connect,
  connectionState,
  eventually,
  realtime,
  sleep,
  type Variant,
} from '../helpers/ably.js';
import { KEYS, startServer, type TestServer } from '../helpers/server.js';

export function realtimeScenarios(variants: Variant[], label: string): void {
  for (const variant of variants) {
    describe(`${label}: ${variant.name}`, () => {
      let ts: TestServer;
      before(async () => {
        ts = await startServer({ maxIdleInterval: 600 });
      });
      after(async () => {
        await ts.close();
      });

      it('connects with a connection id, key and the server details', async () => {
        const client = await connect(realtime(ts, variant));
        try {
          assert.match(client.connection.id ?? '', /^[A-Za-z0-9_-]{12}$/);
          assert.match(client.connection.key ?? '', /^[A-Za-z0-9_-]{12}![A-Za-z0-9]+$/);
          assert.equal(ts.server.inspect.connections, 1);
        } finally {
          await closeAll(client);
        }
      });

      it('attaches with the granted modes', async () => {
        const client = await connect(realtime(ts, variant));
        try {
          const channel = client.channels.get('attach-modes');
          await channel.attach();
          assert.equal(channel.state, 'attached');
          assert.deepEqual([...(channel.modes ?? [])].sort(), [
            'annotation_publish',
            'presence',
            'presence_subscribe',
            'publish',
            'subscribe',
          ]);
          const limited = client.channels.get('attach-modes-sub', { modes: ['subscribe'] });
          await limited.attach();
          assert.deepEqual(limited.modes, ['subscribe']);
        } finally {
          await closeAll(client);
        }
      });

      it('delivers messages between two clients; publish resolves with serials', async () => {
        const a = realtime(ts, variant, { clientId: 'alice' });
        const b = realtime(ts, variant, { clientId: 'bob' });
        try {
          await Promise.all([connect(a), connect(b)]);
          const received = new Collector();
          const chA = a.channels.get('pubsub');
          await chA.subscribe(received.listener);
          const chB = b.channels.get('pubsub');
          const result = await chB.publish('greeting', 'hello world');
          assert.ok(
            result && Array.isArray(result.serials) && result.serials.length === 1,
            `serials: ${JSON.stringify(result)}`,
          );
          assert.match(result.serials[0]!, /^[A-Za-z0-9]+-[0-9a-z]{11}:[0-9a-z]{3}$/);
          await chB.publish([
            { name: 'object', data: { n: 1, list: [1, 2] } },
            { name: 'binary', data: Buffer.from([0xde, 0xad, 0xbe, 0xef]) },
          ]);
          const [text, object, binary] = await received.waitFor(3);
          assert.equal(text!.name, 'greeting');
          assert.equal(dataOf(text!), 'hello world');
          assert.equal(text!.clientId, 'bob');
          assert.equal(text!.connectionId, b.connection.id);
          assert.equal(text!.serial, result.serials[0]);
          assert.ok(text!.id?.startsWith(`${b.connection.id}:0:`), text!.id);
          assert.ok(typeof text!.timestamp === 'number' && Math.abs(text!.timestamp - Date.now()) < 10_000);
          assert.deepEqual(dataOf(object!), { n: 1, list: [1, 2] });
          assert.ok(
            Buffer.isBuffer(dataOf(binary!)) ||
              dataOf(binary!) instanceof ArrayBuffer ||
              dataOf(binary!) instanceof Uint8Array,
          );
          assert.deepEqual([...bytesOf(dataOf(binary))], [0xde, 0xad, 0xbe, 0xef]);
        } finally {
          await closeAll(a, b);
        }
      });

      it('publishes without attaching first', async () => {
        const publisher = await connect(realtime(ts, variant));
        const subscriber = await connect(realtime(ts, variant));
        try {
          const got = new Collector();
          await subscriber.channels.get('no-attach').subscribe(got.listener);
          const channel = publisher.channels.get('no-attach');
          await channel.publish('x', 'y');
          assert.equal(channel.state, 'initialized');
          await got.waitFor(1);
        } finally {
          await closeAll(publisher, subscriber);
        }
      });

      it('does not echo to a connection with echoMessages:false', async () => {
        const quiet = await connect(realtime(ts, variant, { echoMessages: false }));
        const other = await connect(realtime(ts, variant));
        try {
          const own = new Collector();
          const others = new Collector();
          await quiet.channels.get('echo').subscribe(own.listener);
          await other.channels.get('echo').subscribe(others.listener);
          await quiet.channels.get('echo').publish('mine', 1 + '');
          await other.channels.get('echo').publish('theirs', '2');
          await others.waitFor(2);
          await own.waitFor(1);
          await sleep(100);
          assert.deepEqual(
            own.items.map((m) => m.name),
            ['theirs'],
          );
        } finally {
          await closeAll(quiet, other);
        }
      });

      it('fails the channel with 40160 when the capability denies it', async () => {
        const client = await connect(realtime(ts, variant, { key: KEYS.limited }));
        try {
          const denied = client.channels.get('forbidden');
          await assert.rejects(denied.attach(), (err: Ably.ErrorInfo) => err.code === 40160 && err.statusCode === 401);
          assert.equal(denied.state, 'failed');
          assert.equal(denied.errorReason?.code, 40160);
          await assert.rejects(
            client.channels.get('readonly:x').publish('n', 'd'),
            (err: Ably.ErrorInfo) => err.code === 40160,
          );
          const allowed = client.channels.get('allowed:room');
          await allowed.attach();
          await allowed.publish('n', 'd');
          assert.equal(client.connection.state, 'connected');
        } finally {
          await closeAll(client);
        }
      });

      it('fails the connection with 40101 for a bad key', async () => {
        const client = realtime(ts, variant, { key: 'testapp.full:wrong-secret' });
        try {
          const change = await new Promise<Ably.ConnectionStateChange>((resolve) =>
            client.connection.once('failed', resolve),
          );
          assert.equal(change.reason?.code, 40101);
          assert.equal(client.connection.errorReason?.code, 40101);
        } finally {
          client.close();
        }
      });

      it('stays connected through 3 x maxIdleInterval without traffic', async () => {
        // Client idle timeout = maxIdleInterval (600) + realtimeRequestTimeout (400) + 100 ms.
        const client = await connect(realtime(ts, variant, { realtimeRequestTimeout: 400 }));
        try {
          const id = client.connection.id;
          let dropped = 0;
          client.connection.on('disconnected', () => dropped++);
          await sleep(3 * 600 + 200);
          assert.equal(dropped, 0);
          assert.equal(client.connection.state, 'connected');
          assert.equal(client.connection.id, id);
        } finally {
          await closeAll(client);
        }
      });

      it('answers connection.ping()', async () => {
        const client = await connect(realtime(ts, variant));
        try {
          const rtt = await client.connection.ping();
          assert.ok(typeof rtt === 'number' && rtt >= 0);
        } finally {
          await closeAll(client);
        }
      });

      it('detaches and closes cleanly, leaving no state behind', async () => {
        const client = await connect(realtime(ts, variant));
        const channel = client.channels.get('detach');
        await channel.attach();
        await channel.detach();
        assert.equal(channel.state, 'detached');
        client.close();
        await connectionState(client, 'closed');
        await eventually(
          () => ts.server.inspect.connections === 0 && ts.server.inspect.channels === 0,
          3000,
          'server state released',
        );
      });
    });
  }
}
