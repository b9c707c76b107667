/**
 * Finding 1 of issue 12: a message whose `extras` nests too deep must be refused with a 400-class
 * ErrorInfo wherever it enters (REST JSON and msgpack, batch publish, realtime MESSAGE and PRESENCE
 * over WebSocket in both formats), never accepted and then fail the msgpack encoder of a subscriber,
 * a rewind, a presence SYNC or msgpack history. Extras at the documented limit (32 levels) are
 * accepted and reach a msgpack subscriber, rewind and history intact.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Encoder } from '@msgpack/msgpack';
import {
  Action,
  Err,
  MAX_EXTRAS_DEPTH,
  PresenceAction,
  decodeMsgpack,
  type ErrorDef,
  type Format,
  type ProtocolMessage,
} from '@encke/protocol';
import { RawClient } from '../helpers/raw-ws.js';
import { KEYS, startServer, type TestServer } from '../helpers/server.js';
import { bodyErrorIfAny, objectsOf, responseObject } from '../helpers/json.js';

/** Extras of `levels` object levels (the extras object itself is level 1). */
function nest(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 'x' };
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

function depthOf(value: unknown): number {
  let depth = 0;
  let v = value;
  while (v !== null && typeof v === 'object') {
    depth++;
    v = (v as Record<string, unknown>).a ?? (v as Record<string, unknown>).leaf;
  }
  return depth;
}

/** An encoder that writes what the server's own refuses to (any depth), as an attacker would. */
const deepEncoder = new Encoder({ maxDepth: 100_000, ignoreUndefined: true });
const encodeMsgpackValue = (value: unknown): Uint8Array => deepEncoder.encode(value);

/** Sends a ProtocolMessage encoded without the client codec's depth limit. */
function sendDeep(client: RawClient, pm: ProtocolMessage): void {
  if (client.format === 'json') client.sendRaw(JSON.stringify(pm), false);
  else client.sendRaw(Buffer.from(encodeMsgpackValue(pm)), true);
}

const CHANNEL = 'deep';
const basic = (key: string): string => `Basic ${Buffer.from(key).toString('base64')}`;

interface RestCase {
  name: string;
  path: string;
  format: Format;
  body: unknown;
  /** Raw JSON text instead of `body`. */
  text?: string;
  expect: ErrorDef;
}

const REST_CASES: RestCase[] = [
  {
    name: 'JSON, extras 101 levels deep (the reproduction)',
    path: `/channels/${CHANNEL}/messages`,
    format: 'json',
    body: { data: 'd', extras: nest(101) },
    expect: Err.badRequest,
  },
  {
    name: 'msgpack, extras 101 levels deep',
    path: `/channels/${CHANNEL}/messages`,
    format: 'msgpack',
    body: { data: 'd', extras: nest(101) },
    expect: Err.badRequest,
  },
  {
    name: 'JSON, extras 10,000 levels deep',
    path: `/channels/${CHANNEL}/messages`,
    format: 'json',
    body: null,
    text: `{"data":"d","extras":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`,
    expect: Err.badRequest,
  },
  {
    name: 'JSON, extras one level past the limit',
    path: `/channels/${CHANNEL}/messages`,
    format: 'json',
    body: { data: 'd', extras: nest(MAX_EXTRAS_DEPTH + 1) },
    expect: Err.invalidExtras,
  },
  {
    name: 'msgpack, extras one level past the limit',
    path: `/channels/${CHANNEL}/messages`,
    format: 'msgpack',
    body: [{ data: 'd', extras: nest(MAX_EXTRAS_DEPTH + 1) }],
    expect: Err.invalidExtras,
  },
  {
    name: 'JSON, extras with a __proto__ key',
    path: `/channels/${CHANNEL}/messages`,
    format: 'json',
    body: null,
    text: '{"data":"d","extras":{"headers":{"__proto__":{"x":1}}}}',
    expect: Err.invalidExtras,
  },
  {
    name: 'msgpack, extras holding binary',
    path: `/channels/${CHANNEL}/messages`,
    format: 'msgpack',
    body: { data: 'd', extras: { bin: new Uint8Array([1, 2]) } },
    expect: Err.invalidExtras,
  },
  {
    name: 'batch publish, extras past the limit',
    path: '/messages',
    format: 'json',
    body: { channels: [CHANNEL], messages: { data: 'd', extras: nest(MAX_EXTRAS_DEPTH + 1) } },
    expect: Err.invalidExtras,
  },
];

describe('deep extras (issue 12, finding 1)', () => {
  let ts: TestServer;
  let subscriber: RawClient;
  let published = 0;

  const rest = (path: string, format: Format, body: Uint8Array | string, accept: Format = 'json'): Promise<Response> =>
    fetch(`http://127.0.0.1:${ts.port}${path}`, {
      method: 'POST',
      headers: {
        authorization: basic(KEYS.full),
        'content-type': format === 'json' ? 'application/json' : 'application/x-msgpack',
        accept: accept === 'json' ? 'application/json' : 'application/x-msgpack',
      },
      body,
    });

  /** A normal publish still reaches the msgpack subscriber: the server and the subscriber are fine. */
  async function stillDelivering(): Promise<void> {
    const data = `alive-${++published}`;
    assert.equal((await rest(`/channels/${CHANNEL}/messages`, 'json', JSON.stringify({ data }))).status, 201);
    await subscriber.next(Action.MESSAGE, 5000, (pm) => pm.messages?.some((m) => m.data === data) ?? false);
  }

  before(async () => {
    ts = await startServer();
    subscriber = await RawClient.connect(ts.port, KEYS.full, 'msgpack');
    subscriber.send({ action: Action.ATTACH, channel: CHANNEL });
    await subscriber.next(Action.ATTACHED);
  });
  after(async () => {
    subscriber.close();
    await ts.close();
  });

  for (const c of REST_CASES) {
    it(`REST ${c.name}: ${c.expect.statusCode} ${c.expect.code}`, async () => {
      const body = c.text ?? (c.format === 'json' ? JSON.stringify(c.body) : encodeMsgpackValue(c.body));
      const res = await rest(c.path, c.format, body);
      const reply = await responseObject(res);
      assert.equal(res.status, c.expect.statusCode, JSON.stringify(reply).slice(0, 300));
      assert.equal(bodyErrorIfAny(reply)?.code, c.expect.code);
      await stillDelivering();
    });
  }

  for (const format of ['json', 'msgpack'] as const) {
    it(`realtime ${format}: MESSAGE and PRESENCE with extras past the limit are NACKed 40032, the connection stays`, async () => {
      const client = await RawClient.connect(ts.port, KEYS.full, format, '&clientId=deep-client');
      client.send({ action: Action.ATTACH, channel: CHANNEL });
      await client.next(Action.ATTACHED);
      client.send({
        action: Action.MESSAGE,
        channel: CHANNEL,
        msgSerial: 0,
        messages: [{ data: 'd', extras: nest(MAX_EXTRAS_DEPTH + 1) }],
      });
      const nack = await client.next(Action.NACK);
      assert.equal(nack.error?.code, Err.invalidExtras.code);
      client.send({
        action: Action.PRESENCE,
        channel: CHANNEL,
        msgSerial: 1,
        presence: [{ action: PresenceAction.ENTER, data: 'p', extras: nest(MAX_EXTRAS_DEPTH + 5) }],
      });
      assert.equal((await client.next(Action.NACK)).error?.code, Err.invalidExtras.code);
      client.send({ action: Action.MESSAGE, channel: CHANNEL, msgSerial: 2, messages: [{ data: 'fine' }] });
      assert.equal((await client.next(Action.ACK)).msgSerial, 2);
      client.close();
      await stillDelivering();
    });

    it(`realtime ${format}: a frame nested past the decoder's 64 levels fails that connection only (40000)`, async () => {
      const client = await RawClient.connect(ts.port, KEYS.full, format);
      sendDeep(client, {
        action: Action.MESSAGE,
        channel: CHANNEL,
        msgSerial: 0,
        messages: [{ data: 'd', extras: nest(101) }],
      });
      const error = await client.next(Action.ERROR);
      assert.equal(error.error?.code, Err.badRequest.code);
      assert.equal(error.error?.statusCode, 400);
      await client.waitClosed();
      await stillDelivering();
    });
  }

  it(`extras ${MAX_EXTRAS_DEPTH} levels deep are accepted and reach msgpack subscribers, rewind and history intact`, async () => {
    const extras = nest(MAX_EXTRAS_DEPTH);
    assert.equal(
      (await rest(`/channels/${CHANNEL}/messages`, 'msgpack', encodeMsgpackValue({ data: 'at-limit', extras }))).status,
      201,
    );
    const live = await subscriber.next(
      Action.MESSAGE,
      5000,
      (pm) => pm.messages?.some((m) => m.data === 'at-limit') ?? false,
    );
    assert.equal(depthOf(live.messages!.find((m) => m.data === 'at-limit')!.extras), MAX_EXTRAS_DEPTH);
    const late = await RawClient.connect(ts.port, KEYS.full, 'msgpack');
    late.send({ action: Action.ATTACH, channel: CHANNEL, params: { rewind: '100' } });
    const replay = await late.next(
      Action.MESSAGE,
      5000,
      (pm) => pm.messages?.some((m) => m.data === 'at-limit') ?? false,
    );
    assert.equal(depthOf(replay.messages!.find((m) => m.data === 'at-limit')!.extras), MAX_EXTRAS_DEPTH);
    late.close();
    const history = await fetch(`http://127.0.0.1:${ts.port}/channels/${CHANNEL}/messages`, {
      headers: { authorization: basic(KEYS.full), accept: 'application/x-msgpack' },
    });
    assert.equal(history.status, 200);
    const items = objectsOf(decodeMsgpack(new Uint8Array(await history.arrayBuffer())));
    assert.equal(depthOf(items.find((m) => m.data === 'at-limit')!.extras), MAX_EXTRAS_DEPTH);
    assert.ok(
      items.every((m) => m.extras === undefined || depthOf(m.extras) <= MAX_EXTRAS_DEPTH),
      'nothing deeper was stored',
    );
  });
});
