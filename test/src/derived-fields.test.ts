/**
 * A realtime MESSAGE frame leaves out each message's `id`, `connectionId` and `timestamp` when it equals
 * what every client derives from the frame (TM2a/c/f: `<frame id>:<index>`, the frame's connectionId and
 * timestamp; wire/derived-fields.ts). Raw frames over WebSocket (JSON, msgpack) and comet (JSON
 * streaming, msgpack polling), on the memory and the Redis engine, show the fields gone from the
 * messages and carried once by the frame; a message with its own id keeps it; a replayed batch of
 * several publishes (no frame id or connectionId, one timestamp) keeps what differs. ably-js 2.x, ably-js 1.x and our client get every field back, equal
 * to the stored message (REST history); SSE events, read without a frame, carry the full message.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as Ably from 'ably';
import Ably1 from 'ably1';
import { Action, type Message, type ProtocolMessage } from '@encke/protocol';
import type { ServerOptions } from '@encke/server';
import { closeAll, connect, realtime, rest } from './helpers/ably.js';
import { enckeClient, type ClientVariant } from './helpers/encke-client.js';
import { EventStreamReader } from './helpers/event-stream.js';
import { jsonObject } from './helpers/json.js';
import { RawCometClient } from './helpers/raw-comet.js';
import { RawClient } from './helpers/raw-ws.js';
import { TestRedis } from './helpers/redis.js';
import { KEYS, type TestServer } from './helpers/server.js';
import { serverPerSuite } from './helpers/suite.js';

const DERIVED = ['id', 'connectionId', 'timestamp'] as const;

interface Fields {
  id: string | undefined;
  connectionId: string | undefined;
  timestamp: number | undefined;
}

/** Message `i` of `pm` as a client completes it (TM2a/c/f). */
function derived(pm: ProtocolMessage, i: number): Fields {
  const m = pm.messages![i]!;
  return {
    id: m.id ?? (pm.id === undefined ? undefined : `${pm.id}:${i}`),
    connectionId: m.connectionId ?? pm.connectionId,
    timestamp: m.timestamp ?? pm.timestamp,
  };
}

function fieldsOf(m: { id?: string; connectionId?: string; timestamp?: number }): Fields {
  return { id: m.id, connectionId: m.connectionId, timestamp: m.timestamp };
}

/** The derivable fields a message carries on the wire. */
function carried(m: Message): string[] {
  return DERIVED.filter((k) => k in m);
}

/** The channel's stored messages, oldest first, as REST history answers (full messages). */
async function stored(ts: TestServer, channel: string): Promise<Fields[]> {
  const page = await rest(ts, 'json').channels.get(channel).history({ direction: 'forwards' });
  return page.items.map(fieldsOf);
}

/** A protocol-level subscriber: attach, and the frames it was sent. */
interface RawSubscriber {
  attach(channel: string, channelSerial?: string): Promise<ProtocolMessage>;
  detach(channel: string): Promise<void>;
  next(action: number): Promise<ProtocolMessage>;
  close(): Promise<void>;
}

async function wsSubscriber(ts: TestServer, format: 'json' | 'msgpack'): Promise<RawSubscriber> {
  const c = await RawClient.connect(ts.port, KEYS.full, format);
  return {
    async attach(channel, channelSerial) {
      c.send({ action: Action.ATTACH, channel, ...(channelSerial === undefined ? {} : { channelSerial }) });
      return c.next(Action.ATTACHED);
    },
    async detach(channel) {
      c.send({ action: Action.DETACH, channel });
      await c.next(Action.DETACHED);
    },
    next: (action) => c.next(action),
    close: async () => c.ws.close(),
  };
}

async function cometSubscriber(ts: TestServer, format: 'json' | 'msgpack', stream: boolean): Promise<RawSubscriber> {
  const c = await RawCometClient.connect(ts.port, { format, stream });
  return {
    async attach(channel, channelSerial) {
      await c.send([{ action: Action.ATTACH, channel, ...(channelSerial === undefined ? {} : { channelSerial }) }]);
      return c.next(Action.ATTACHED);
    },
    async detach(channel) {
      await c.send([{ action: Action.DETACH, channel }]);
      await c.next(Action.DETACHED);
    },
    next: (action) => c.next(action),
    close: () => c.close(),
  };
}

const RAW: { name: string; open: (ts: TestServer) => Promise<RawSubscriber> }[] = [
  { name: 'WebSocket JSON', open: (ts) => wsSubscriber(ts, 'json') },
  { name: 'WebSocket msgpack', open: (ts) => wsSubscriber(ts, 'msgpack') },
  { name: 'comet JSON streaming', open: (ts) => cometSubscriber(ts, 'json', true) },
  { name: 'comet msgpack polling', open: (ts) => cometSubscriber(ts, 'msgpack', false) },
];

/** A raw WebSocket publisher and its connectionId; `publish` resolves at the ACK. */
async function publisher(
  ts: TestServer,
): Promise<{ id: string; publish(channel: string, messages: Message[]): Promise<void>; close(): void }> {
  const c = await RawClient.open(ts.port, `key=${encodeURIComponent(KEYS.full)}&format=json&v=6`);
  const connected = await c.next(Action.CONNECTED);
  let msgSerial = 0;
  return {
    id: connected.connectionId!,
    async publish(channel, messages) {
      c.send({ action: Action.MESSAGE, channel, msgSerial: msgSerial++, messages });
      await c.next(Action.ACK);
    },
    close: () => c.ws.close(),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Raw frames of a server on `engine`: the fields gone where derived, kept where they differ. The memory
 * engine stamps the event with its messages' timestamp; Redis stamps it in its script (never going back
 * within a channel), so there a message's own timestamp may differ from its frame's and then stays.
 * `keysInEngine`: how many keys an outside engine holds (checked above 0: the server really ran on it).
 */
function rawFrames(
  engine: string,
  options: () => ServerOptions,
  timestampsMayDiffer: boolean,
  keysInEngine?: () => Promise<number>,
): void {
  /** What a message of `pm` must still carry of its timestamp: nothing, unless it may and does differ. */
  const ownTimestamp = (pm: ProtocolMessage): string[] =>
    timestampsMayDiffer && pm.messages!.some((m) => m.timestamp !== undefined && m.timestamp !== pm.timestamp)
      ? ['timestamp']
      : [];
  describe(`raw MESSAGE frames, ${engine} engine`, () => {
    const suite = serverPerSuite(options);

    for (const raw of RAW) {
      it(`${raw.name}: a publish's frame carries id, connectionId and timestamp once; a message's own id stays`, async () => {
        const channel = `derived-raw-${raw.name.replace(/ /g, '-')}`;
        const sub = await raw.open(suite.ts);
        const pub = await publisher(suite.ts);
        try {
          await sub.attach(channel);
          await pub.publish(channel, [
            { name: 'a', data: 'x' },
            { name: 'b', data: 'y' },
          ]);
          await pub.publish(channel, [{ id: 'own-id', data: 'z' }]);
          const first = await sub.next(Action.MESSAGE);
          const second = await sub.next(Action.MESSAGE);
          assert.equal(first.connectionId, pub.id);
          assert.equal(first.id, `${pub.id}:0`);
          assert.equal(typeof first.timestamp, 'number');
          assert.deepEqual(first.messages!.map(carried), [ownTimestamp(first), ownTimestamp(first)], 'left out');
          assert.deepEqual(second.messages!.map(carried), [['id', ...ownTimestamp(second)]], 'its own id stays');
          assert.equal(second.messages![0]!.id, 'own-id');
          assert.deepEqual([derived(first, 0), derived(first, 1), derived(second, 0)], await stored(suite.ts, channel));
          if (keysInEngine) assert.ok((await keysInEngine()) > 0, `the channel's log is in ${engine}`);
        } finally {
          await sub.close();
          pub.close();
        }
      });
    }

    it('a replayed batch of several publishes keeps each id and connectionId, and the timestamps that differ', async () => {
      const channel = 'derived-replay';
      const sub = await wsSubscriber(suite.ts, 'json');
      const a = await publisher(suite.ts);
      const b = await publisher(suite.ts);
      try {
        const { channelSerial } = await sub.attach(channel);
        await sub.detach(channel);
        await a.publish(channel, [{ data: '1' }]);
        await sleep(5); // a later millisecond: the first timestamp differs from the batch's
        await b.publish(channel, [{ data: '2' }, { data: '3' }]);
        await a.publish(channel, [{ data: '4' }]);
        await sub.attach(channel, channelSerial);
        const batch = await sub.next(Action.MESSAGE);
        assert.equal(batch.messages!.length, 4, 'one frame of the three publishes');
        assert.equal(batch.id, undefined);
        assert.equal(batch.connectionId, undefined);
        for (const m of batch.messages!) {
          assert.equal(typeof m.id, 'string');
          assert.equal(typeof m.connectionId, 'string');
        }
        assert.equal(typeof batch.messages![0]!.timestamp, 'number', "an earlier publish's timestamp stays");
        assert.deepEqual(
          [0, 1, 2, 3].map((i) => derived(batch, i)),
          await stored(suite.ts, channel),
        );
      } finally {
        await sub.close();
        a.close();
        b.close();
      }
    });
  });
}

rawFrames('memory', () => ({}), false);

const redis = TestRedis.perSuite();
rawFrames(
  'redis',
  () => ({ redis: redis.url, redisPrefix: `d${Math.random().toString(36).slice(2, 8)}:` }),
  true,
  async () => Number(await redis.command('DBSIZE')),
);

describe('clients get the fields back; SSE events carry them', () => {
  const suite = serverPerSuite();

  /** Subscribes with `sdk`, publishes two messages in one call with ably-js 2.x, and checks what arrives. */
  async function receivesFullMessages(
    channel: string,
    subscribe: (onMessage: (m: Fields) => void) => Promise<void>,
  ): Promise<void> {
    const got: Fields[] = [];
    let arrived!: () => void;
    const both = new Promise<void>((r) => (arrived = r));
    await subscribe((m) => {
      got.push(m);
      if (got.length === 2) arrived();
    });
    const pub = await connect(realtime(suite.ts, { name: 'ws', transport: 'web_socket', format: 'json' }));
    try {
      await pub.channels.get(channel).publish([
        { name: 'a', data: 'x' },
        { name: 'b', data: 'y' },
      ]);
      await both;
      const full = await stored(suite.ts, channel);
      assert.deepEqual(got, full);
      assert.equal(got[0]!.connectionId, pub.connection.id);
      assert.match(got[1]!.id ?? '', new RegExp(`^${pub.connection.id}:\\d+:1$`));
    } finally {
      await closeAll(pub);
    }
  }

  const ABLY2: { name: string; transport: 'web_socket' | 'comet'; format: 'json' | 'msgpack' }[] = [
    { name: 'WebSocket JSON', transport: 'web_socket', format: 'json' },
    { name: 'WebSocket msgpack', transport: 'web_socket', format: 'msgpack' },
    { name: 'comet', transport: 'comet', format: 'json' },
  ];
  for (const v of ABLY2) {
    it(`ably-js 2.x over ${v.name} gets id, connectionId and timestamp back`, async () => {
      const sub = await connect(realtime(suite.ts, { ...v }));
      try {
        await receivesFullMessages(`derived-ably2-${v.transport}-${v.format}`, async (on) => {
          await sub.channels
            .get(`derived-ably2-${v.transport}-${v.format}`)
            .subscribe((m: Ably.Message) => on(fieldsOf(m)));
        });
      } finally {
        await closeAll(sub);
      }
    });

    it(`ably-js 1.x over ${v.name} gets id, connectionId and timestamp back`, async () => {
      const sub = new Ably1.Realtime.Promise({
        key: KEYS.full,
        realtimeHost: '127.0.0.1',
        restHost: '127.0.0.1',
        port: suite.ts.port,
        tls: false,
        useBinaryProtocol: v.format === 'msgpack',
        transports: [v.transport],
        log: { level: 0 },
      });
      try {
        await sub.connection.once('connected');
        await receivesFullMessages(`derived-ably1-${v.transport}-${v.format}`, async (on) => {
          await sub.channels.get(`derived-ably1-${v.transport}-${v.format}`).subscribe((m) => on(fieldsOf(m)));
        });
      } finally {
        sub.close();
      }
    });
  }

  const OURS: ClientVariant[] = [
    { name: 'web_socket json', transport: 'web_socket', format: 'json' },
    { name: 'web_socket msgpack', transport: 'web_socket', format: 'msgpack' },
    { name: 'xhr_streaming json', transport: 'xhr_streaming', format: 'json' },
  ];
  for (const v of OURS) {
    it(`our client over ${v.name} gets id, connectionId and timestamp back`, async () => {
      const sub = enckeClient(suite.ts, v);
      try {
        const channel = `derived-ours-${v.transport}-${v.format}`;
        await receivesFullMessages(channel, async (on) => {
          await sub.channels.get(channel).subscribe((m) => on(fieldsOf(m)));
        });
      } finally {
        sub.close();
      }
    });
  }

  it('SSE events carry the full message (an event has no frame to derive from)', async () => {
    const channel = 'derived-sse';
    const reader = await EventStreamReader.open(
      `http://127.0.0.1:${suite.ts.port}/sse?channels=${channel}&v=1.2&key=${encodeURIComponent(KEYS.full)}`,
    );
    try {
      await receivesFullMessages(channel, async (on) => {
        void reader
          .until(() => reader.events.length >= 2, 'two events')
          .then(() => {
            for (const e of reader.events) {
              const m = jsonObject(e.data);
              on({
                id: typeof m.id === 'string' ? m.id : undefined,
                connectionId: typeof m.connectionId === 'string' ? m.connectionId : undefined,
                timestamp: typeof m.timestamp === 'number' ? m.timestamp : undefined,
              });
            }
          });
      });
    } finally {
      reader.cut();
    }
  });
});
