/**
 * Bad input over WebSocket, as a table: each malformed input, the ErrorInfo it must produce, and a
 * check that the server still serves other connections and keeps no state for the bad one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  Action,
  Err,
  PresenceAction,
  encodeMsgpackValue,
  type ErrorDef,
  type Format,
  type ProtocolMessage,
} from '@encke/protocol';
import { eventually } from './helpers/ably.js';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

const MAX_MESSAGE_SIZE = 2048;
const MAX_FRAME_SIZE = 8192;

type Expect =
  | { fatal: ErrorDef } // connection ERROR, then the socket closes
  | { nack: ErrorDef } // NACK of msgSerial 0, the connection stays up
  | { channelError: ErrorDef; channel: string }; // channel-scoped ERROR, the connection stays up

interface Case {
  name: string;
  format?: Format;
  send: (c: RawClient) => void;
  expect: Expect;
}

const big = 'x'.repeat(MAX_MESSAGE_SIZE + 1);

const CASES: Case[] = [
  { name: 'malformed JSON', send: (c) => c.sendRaw('{"action":10,', false), expect: { fatal: Err.badRequest } },
  { name: 'JSON that is not an object', send: (c) => c.sendRaw('[1,2,3]', false), expect: { fatal: Err.badRequest } },
  { name: 'JSON null', send: (c) => c.sendRaw('null', false), expect: { fatal: Err.badRequest } },
  { name: 'missing action', send: (c) => c.sendRaw('{"channel":"x"}', false), expect: { fatal: Err.badRequest } },
  {
    name: 'action of the wrong type',
    send: (c) => c.sendRaw('{"action":"10","channel":"x"}', false),
    expect: { fatal: Err.badRequest },
  },
  { name: 'negative action', send: (c) => c.sendRaw('{"action":-1}', false), expect: { fatal: Err.badRequest } },
  { name: 'unknown action', send: (c) => c.send({ action: 99 }), expect: { fatal: Err.protocolError } },
  {
    name: 'server-only action (ACK) from the client',
    send: (c) => c.send({ action: Action.ACK, msgSerial: 0, count: 1 }),
    expect: { fatal: Err.protocolError },
  },
  {
    name: 'CONNECTED from the client',
    send: (c) => c.send({ action: Action.CONNECTED }),
    expect: { fatal: Err.protocolError },
  },
  {
    name: 'channel of the wrong type',
    send: (c) => c.sendRaw('{"action":10,"channel":42}', false),
    expect: { fatal: Err.invalidChannelName },
  },
  {
    name: 'ATTACH without a channel',
    send: (c) => c.send({ action: Action.ATTACH }),
    expect: { fatal: Err.protocolError },
  },
  {
    name: 'msgSerial of the wrong type',
    send: (c) => c.sendRaw('{"action":15,"channel":"x","msgSerial":"0","messages":[]}', false),
    expect: { fatal: Err.badRequest },
  },
  {
    name: 'MESSAGE without msgSerial',
    send: (c) => c.send({ action: Action.MESSAGE, channel: 'x', messages: [{ name: 'a' }] }),
    expect: { fatal: Err.protocolError },
  },
  {
    name: 'params that are not an object',
    send: (c) => c.sendRaw('{"action":10,"channel":"x","params":"rewind=1"}', false),
    expect: { fatal: Err.badRequest },
  },
  {
    name: 'messages that are not an array',
    send: (c) => c.sendRaw('{"action":15,"channel":"x","msgSerial":0,"messages":{"name":"a"}}', false),
    expect: { nack: Err.badRequest },
  },
  {
    name: 'a message that is not an object',
    send: (c) => c.sendRaw('{"action":15,"channel":"x","msgSerial":0,"messages":["a"]}', false),
    expect: { nack: Err.badRequest },
  },
  {
    name: 'data that is a number',
    send: (c) => c.sendRaw('{"action":15,"channel":"x","msgSerial":0,"messages":[{"data":42}]}', false),
    expect: { nack: Err.invalidDataOrEncoding },
  },
  {
    name: 'data that is a raw object',
    send: (c) => c.sendRaw('{"action":15,"channel":"x","msgSerial":0,"messages":[{"data":{"a":1}}]}', false),
    expect: { nack: Err.invalidDataOrEncoding },
  },
  {
    name: 'invalid base64 data',
    send: (c) =>
      c.send({
        action: Action.MESSAGE,
        channel: 'x',
        msgSerial: 0,
        messages: [{ data: '!!notbase64', encoding: 'base64' }],
      }),
    expect: { nack: Err.invalidDataOrEncoding },
  },
  {
    name: 'name of the wrong type',
    send: (c) => c.sendRaw('{"action":15,"channel":"x","msgSerial":0,"messages":[{"name":7}]}', false),
    expect: { nack: Err.badRequest },
  },
  {
    name: 'clientId of the wrong type',
    send: (c) => c.sendRaw('{"action":15,"channel":"x","msgSerial":0,"messages":[{"clientId":7}]}', false),
    expect: { nack: Err.invalidClientId },
  },
  {
    name: 'MESSAGE with no messages',
    send: (c) => c.send({ action: Action.MESSAGE, channel: 'x', msgSerial: 0, messages: [] }),
    expect: { nack: Err.badRequest },
  },
  {
    name: 'oversize message (maxMessageSize)',
    send: (c) => c.send({ action: Action.MESSAGE, channel: 'x', msgSerial: 0, messages: [{ name: 'big', data: big }] }),
    expect: { nack: Err.maxMessageSizeExceeded },
  },
  {
    name: 'oversize publish spread over several messages',
    send: (c) =>
      c.send({
        action: Action.MESSAGE,
        channel: 'x',
        msgSerial: 0,
        messages: [{ data: big.slice(0, 1500) }, { data: big.slice(0, 1500) }],
      }),
    expect: { nack: Err.maxMessageSizeExceeded },
  },
  {
    name: 'oversize frame (maxFrameSize)',
    send: (c) => c.sendRaw(JSON.stringify({ action: 0, id: 'y'.repeat(MAX_FRAME_SIZE) }), false),
    expect: { fatal: Err.maxMessageSizeExceeded },
  },
  {
    name: 'publish to an empty channel name',
    send: (c) => c.send({ action: Action.MESSAGE, channel: '', msgSerial: 0, messages: [{ data: 'a' }] }),
    expect: { nack: Err.invalidChannelName },
  },
  {
    name: 'attach to an empty channel name',
    send: (c) => c.send({ action: Action.ATTACH, channel: '' }),
    expect: { channelError: Err.invalidChannelName, channel: '' },
  },
  {
    name: 'attach to a name starting with ":"',
    send: (c) => c.send({ action: Action.ATTACH, channel: ':x' }),
    expect: { channelError: Err.invalidChannelName, channel: ':x' },
  },
  {
    name: 'attach to a name with a newline',
    send: (c) => c.send({ action: Action.ATTACH, channel: 'a\nb' }),
    expect: { channelError: Err.invalidChannelName, channel: 'a\nb' },
  },
  {
    name: 'attach to an overlong name',
    send: (c) => c.send({ action: Action.ATTACH, channel: 'n'.repeat(3000) }),
    expect: { channelError: Err.invalidChannelName, channel: 'n'.repeat(3000) },
  },
  {
    name: 'attach with an invalid rewind',
    send: (c) => c.send({ action: Action.ATTACH, channel: 'r', params: { rewind: 'soon' } }),
    expect: { channelError: Err.invalidParameterValue, channel: 'r' },
  },
  {
    name: 'attach with unknown modes',
    send: (c) => c.send({ action: Action.ATTACH, channel: 'm', params: { modes: 'everything' } }),
    expect: { channelError: Err.invalidParameterValue, channel: 'm' },
  },
  {
    name: 'presence without a clientId',
    send: (c) =>
      c.send({ action: Action.PRESENCE, channel: 'p', msgSerial: 0, presence: [{ action: PresenceAction.ENTER }] }),
    expect: { nack: Err.presenceNoClientId },
  },
  {
    name: 'presence with a server-only action (PRESENT)',
    send: (c) =>
      c.send({
        action: Action.PRESENCE,
        channel: 'p',
        msgSerial: 0,
        presence: [{ action: PresenceAction.PRESENT, clientId: 'a' }],
      }),
    expect: { nack: Err.badRequest },
  },
  {
    name: 'presence with no items',
    send: (c) => c.send({ action: Action.PRESENCE, channel: 'p', msgSerial: 0, presence: [] }),
    expect: { nack: Err.badRequest },
  },
  {
    name: 'presence item without an action',
    send: (c) => c.sendRaw('{"action":14,"channel":"p","msgSerial":0,"presence":[{"clientId":"a"}]}', false),
    expect: { nack: Err.badRequest },
  },
  {
    name: 'presence data that is a number',
    send: (c) =>
      c.sendRaw('{"action":14,"channel":"p","msgSerial":0,"presence":[{"action":2,"clientId":"a","data":5}]}', false),
    expect: { nack: Err.invalidDataOrEncoding },
  },
  {
    name: 'presence clientId "*"',
    send: (c) =>
      c.send({
        action: Action.PRESENCE,
        channel: 'p',
        msgSerial: 0,
        presence: [{ action: PresenceAction.ENTER, clientId: '*' }],
      }),
    expect: { nack: Err.invalidClientId },
  },
  {
    name: 'oversize presence data',
    send: (c) =>
      c.send({
        action: Action.PRESENCE,
        channel: 'p',
        msgSerial: 0,
        presence: [{ action: PresenceAction.ENTER, clientId: 'a', data: big }],
      }),
    expect: { nack: Err.maxMessageSizeExceeded },
  },
  {
    name: 'msgpack: truncated frame',
    format: 'msgpack',
    send: (c) => c.sendRaw(Buffer.from([0x84, 0xa6, 0x61, 0x63]), true),
    expect: { fatal: Err.badRequest },
  },
  {
    name: 'msgpack: text frame on a msgpack connection',
    format: 'msgpack',
    send: (c) => c.sendRaw('{"action":0}', false),
    expect: { fatal: Err.badRequest },
  },
  {
    name: 'msgpack: a map key that is not a string',
    format: 'msgpack',
    send: (c) => c.sendRaw(Buffer.from([0x81, 0x01, 0x00]), true),
    expect: { fatal: Err.badRequest },
  },
  {
    name: 'msgpack: data of the wrong type',
    format: 'msgpack',
    send: (c) =>
      c.sendRaw(
        Buffer.from(
          encodeMsgpackValue({ action: Action.MESSAGE, channel: 'x', msgSerial: 0, messages: [{ data: [1, 2] }] }),
        ),
        true,
      ),
    expect: { nack: Err.invalidDataOrEncoding },
  },
];

describe('websocket bad input', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer({ maxMessageSize: MAX_MESSAGE_SIZE, maxFrameSize: MAX_FRAME_SIZE });
  });
  after(async () => {
    await ts.close();
  });

  /** Another connection works end to end: attach, publish, receive. */
  async function serverStillServes(): Promise<void> {
    const c = await RawClient.connect(ts.port, KEYS.full);
    c.send({ action: Action.ATTACH, channel: 'health' });
    await c.next(Action.ATTACHED);
    c.send({ action: Action.MESSAGE, channel: 'health', msgSerial: 0, messages: [{ name: 'ok', data: 'fine' }] });
    await c.next(Action.ACK);
    const msg = await c.next(Action.MESSAGE);
    assert.equal(msg.messages?.[0]?.data, 'fine');
    c.close();
  }

  for (const tc of CASES) {
    it(`${tc.name} → ${'fatal' in tc.expect ? `ERROR ${tc.expect.fatal.code}` : 'nack' in tc.expect ? `NACK ${tc.expect.nack.code}` : `channel ERROR ${tc.expect.channelError.code}`}`, async () => {
      const client = await RawClient.connect(ts.port, KEYS.full, tc.format ?? 'json');
      tc.send(client);
      const expect = tc.expect;
      if ('fatal' in expect) {
        const err = await client.next(Action.ERROR);
        assert.equal(err.channel, undefined);
        assert.equal(err.error?.code, expect.fatal.code, err.error?.message);
        assert.equal(err.error?.statusCode, expect.fatal.statusCode);
        assert.equal(typeof err.error?.message, 'string');
        await client.waitClosed();
        await eventually(() => ts.server.inspect.connections === 0, 2000, 'failed session disposed');
      } else if ('nack' in expect) {
        const nack = await client.next(Action.NACK);
        assert.equal(nack.msgSerial, 0);
        assert.equal(nack.count, 1);
        assert.equal(nack.error?.code, expect.nack.code, nack.error?.message);
        assert.equal(nack.error?.statusCode, expect.nack.statusCode);
        // The connection is still usable.
        client.send({ action: Action.HEARTBEAT, id: 'still-there' });
        assert.equal((await client.next(Action.HEARTBEAT)).id, 'still-there');
        client.close();
      } else {
        const err = await client.next(Action.ERROR);
        assert.equal(err.channel, expect.channel);
        assert.equal(err.error?.code, expect.channelError.code, err.error?.message);
        client.send({ action: Action.HEARTBEAT, id: 'still-there' });
        assert.equal((await client.next(Action.HEARTBEAT)).id, 'still-there');
        client.close();
      }
      await serverStillServes();
      await eventually(
        () => ts.server.inspect.connections === 0 && ts.server.inspect.channels === 0,
        3000,
        'no state left behind',
      );
    });
  }

  const CONNECT_CASES: { name: string; query: string; code: number }[] = [
    { name: 'no credentials', query: 'format=json&v=6', code: Err.invalidCredentials.code },
    { name: 'a malformed key', query: 'key=nonsense&format=json', code: Err.invalidCredentials.code },
    {
      name: 'an unknown key',
      query: `key=${encodeURIComponent('testapp.nokey:whatever-secret')}`,
      code: Err.invalidCredentials.code,
    },
    {
      name: 'a wrong secret',
      query: `key=${encodeURIComponent('testapp.full:wrong')}`,
      code: Err.invalidCredentials.code,
    },
    {
      name: 'an unknown format',
      query: `key=${encodeURIComponent(KEYS.full)}&format=xml`,
      code: Err.invalidParameterValue.code,
    },
    {
      name: 'protocol version 1',
      query: `key=${encodeURIComponent(KEYS.full)}&v=1`,
      code: Err.unsupportedProtocolVersion.code,
    },
    {
      name: 'a non-numeric version',
      query: `key=${encodeURIComponent(KEYS.full)}&v=abc`,
      code: Err.unsupportedProtocolVersion.code,
    },
    {
      name: 'heartbeats that is not a boolean',
      query: `key=${encodeURIComponent(KEYS.full)}&heartbeats=maybe`,
      code: Err.invalidParameterValue.code,
    },
    {
      name: 'clientId "*" with a key',
      query: `key=${encodeURIComponent(KEYS.full)}&clientId=*`,
      code: Err.invalidClientId.code,
    },
  ];
  for (const tc of CONNECT_CASES) {
    it(`connect with ${tc.name} → ERROR ${tc.code} after the upgrade`, async () => {
      const client = await RawClient.open(ts.port, tc.query);
      const err = await client.next(Action.ERROR);
      assert.equal(err.error?.code, tc.code, err.error?.message);
      await client.waitClosed();
      assert.equal(ts.server.inspect.connections, 0);
      await serverStillServes();
    });
  }

  it('a client that talks before CONNECTED is answered after it, in order', async () => {
    const client = await RawClient.open(ts.port, `key=${encodeURIComponent(KEYS.full)}&format=json`);
    client.send({ action: Action.ATTACH, channel: 'early' });
    client.send({ action: Action.HEARTBEAT, id: 'early-ping' });
    await client.next(Action.HEARTBEAT, 5000, (pm: ProtocolMessage) => pm.id === 'early-ping');
    assert.deepEqual(
      client.log.map((pm) => pm.action),
      [Action.CONNECTED, Action.ATTACHED, Action.HEARTBEAT],
    );
    client.close();
  });

  it('sends HEARTBEAT messages to heartbeats=true clients and echoes ping ids', async () => {
    const quick = await startServer({ maxIdleInterval: 300 });
    try {
      const client = await RawClient.connect(quick.port, KEYS.full, 'json');
      const started = Date.now();
      const hb = await client.next(Action.HEARTBEAT, 2000);
      assert.equal(hb.id, undefined);
      assert.ok(Date.now() - started < 1000);
      client.send({ action: Action.HEARTBEAT, id: 'abc' });
      assert.equal((await client.next(Action.HEARTBEAT, 2000, (pm) => pm.id !== undefined)).id, 'abc');
      client.close();
    } finally {
      await quick.close();
    }
  });
});
