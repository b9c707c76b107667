/**
 * A resume's replay racing live delivery on the same channel for the same subscriber, made to happen
 * every time: the engine's read for the re-attach (attachState with the client's channelSerial) is
 * held while the publisher publishes more, either after the read (the replay misses them: they
 * arrive live while the attachment is not live yet and must follow the replay) or before it (the
 * replay has them too: the live copies must be dropped). Each way the subscriber must get every
 * message once and in order, over every transport, on the memory and on the Redis engine.
 */
import { dataOf } from './helpers/field.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type * as Ably from 'ably';
import type { AttachQuery, AttachState, ChannelKey } from '@encke/server';
import {
  COMET_VARIANTS,
  Collector,
  WS_VARIANTS,
  closeAll,
  connect,
  realtime,
  sleep,
  type Variant,
} from './helpers/ably.js';
import { KillableProxy } from './helpers/proxy.js';
import { TestRedis } from './helpers/redis.js';
import { startServer, type TestServer } from './helpers/server.js';

const FAST_RETRY = { disconnectedRetryTimeout: 100, suspendedRetryTimeout: 100, realtimeRequestTimeout: 3000 } as const;

type Order = 'read, then live' | 'live, then read';

/** Holds the next resume read of the server's engine (see the file comment). */
class ReplayGate {
  private armed: { order: Order; entered: () => void; released: Promise<void> } | null = null;

  constructor(ts: TestServer) {
    const channels = ts.server.engine.channels;
    const read = channels.attachState.bind(channels);
    channels.attachState = async (key: ChannelKey, query: AttachQuery): Promise<AttachState> => {
      const armed = this.armed;
      if (!armed || !query.from) return read(key, query);
      this.armed = null;
      if (armed.order === 'live, then read') {
        armed.entered();
        await armed.released;
        return read(key, query);
      }
      const state = await read(key, query);
      armed.entered();
      await armed.released;
      return state;
    };
  }

  /** Arms the gate; `entered` resolves once the read is held, `release` lets it go on. */
  arm(order: Order): { entered: Promise<void>; release: () => void } {
    let entered!: () => void;
    let release!: () => void;
    const enteredP = new Promise<void>((r) => (entered = r));
    const released = new Promise<void>((r) => (release = r));
    this.armed = { order, entered, released };
    return { entered: enteredP, release };
  }
}

function numbers(messages: Ably.Message[]): number[] {
  return messages.map((m) => Number(dataOf(m)));
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function scenarios(engineName: string, start: () => Promise<TestServer>): void {
  for (const variant of [...WS_VARIANTS, ...COMET_VARIANTS] satisfies Variant[]) {
    describe(`replay racing live delivery (${engineName}): ${variant.name}`, () => {
      let ts: TestServer;
      let gate: ReplayGate;
      before(async () => {
        ts = await start();
        gate = new ReplayGate(ts);
      });
      after(async () => {
        await ts.close();
      });

      for (const order of ['read, then live', 'live, then read'] as const) {
        it(`${order}: every message once, in order, after the resume`, async () => {
          const proxy = await KillableProxy.start(ts.port);
          const subscriber = realtime(ts, variant, { port: proxy.port, ...FAST_RETRY });
          const publisher = realtime(ts, variant);
          try {
            await Promise.all([connect(subscriber), connect(publisher)]);
            const id = subscriber.connection.id;
            const name = `race-${order.replace(/\W+/g, '-')}`;
            const got = new Collector();
            const channel = subscriber.channels.get(name);
            await channel.subscribe(got.listener);
            const reattached: Ably.ChannelStateChange[] = [];
            channel.on('attached', (change) => reattached.push(change));
            const out = publisher.channels.get(name);
            for (let i = 0; i < 5; i++) await out.publish('n', String(i));
            await got.waitFor(5);
            const held = gate.arm(order);
            proxy.killAll(); // the subscriber resumes and re-attaches from its channelSerial
            await held.entered;
            for (let i = 5; i < 10; i++) await out.publish('n', String(i)); // live, while the replay is held
            held.release();
            await got.waitFor(10, 10_000);
            for (let i = 10; i < 13; i++) await out.publish('n', String(i));
            await got.waitFor(13, 10_000);
            await sleep(150); // a repeat would arrive now
            assert.deepEqual(numbers(got.items), range(13));
            assert.equal(subscriber.connection.id, id, 'the connection resumed');
            assert.ok(reattached.length > 0 && reattached.every((c) => c.resumed), 're-attached with continuity');
          } finally {
            await closeAll(subscriber, publisher);
            await proxy.close();
          }
        });
      }
    });
  }
}

scenarios('memory engine', () => startServer());

const redis = TestRedis.perSuite();
scenarios('redis engine', () =>
  startServer({ redis: redis.url, redisPrefix: `r${Math.random().toString(36).slice(2, 8)}:` }),
);
