/**
 * Bad input over comet, as tables: each malformed request, the error it must produce, and checks
 * that a bystander connection is untouched and the server still serves new ones.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Action, Err, encodeMsgpackValue, type ErrorDef, type ErrorInfo } from '@encke/protocol';
import { eventually } from './helpers/ably.js';
import { cometRequest, JSON_TYPE, MSGPACK_TYPE, RawCometClient, type CometResponse } from './helpers/raw-comet.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';
import { bodyErrorIfAny } from './helpers/json.js';

const MAX_BODY = 4096;
const FULL = `key=${encodeURIComponent(KEYS.full)}`;

/** The ErrorInfo of an HTTP error response (`{"error": …}`) or of an ERROR array. */
function errorOf(res: CometResponse): ErrorInfo | undefined {
  return bodyErrorIfAny(res.body) ?? res.batches.flat().find((pm) => pm.action === Action.ERROR)?.error;
}

function assertHttpError(res: CometResponse, def: ErrorDef): void {
  const err = errorOf(res);
  assert.equal(err?.code, def.code, err?.message);
  assert.equal(res.status, def.statusCode);
  assert.equal(res.headers['content-type'], JSON_TYPE);
  assert.equal(res.headers['x-ably-errorcode'], String(def.code));
  assert.equal(typeof res.headers['x-ably-errormessage'], 'string');
}

const post = (c: RawCometClient, body: string | Buffer, type = JSON_TYPE): Promise<CometResponse> =>
  c.request('send', { method: 'POST', body, headers: { 'content-type': type } });

type Expect =
  | { fatal: ErrorDef } // the send fails with it, the recv gets ERROR with it, the connection is gone
  | { fatalOnRecv: ErrorDef } // the send is accepted (204); the session fails the connection
  | { nack: ErrorDef }; // the send is accepted; NACK of msgSerial 0, the connection stays

interface SendCase {
  name: string;
  send: (c: RawCometClient) => Promise<CometResponse>;
  expect: Expect;
}

const SEND_CASES: SendCase[] = [
  { name: 'malformed JSON', send: (c) => post(c, '[{"action":0'), expect: { fatal: Err.badRequest } },
  {
    name: 'a body that is an object, not an array',
    send: (c) => post(c, '{"action":0}'),
    expect: { fatal: Err.badRequest },
  },
  { name: 'a body that is JSON null', send: (c) => post(c, 'null'), expect: { fatal: Err.badRequest } },
  {
    name: 'an array holding a non-object',
    send: (c) => post(c, '[{"action":0},7]'),
    expect: { fatal: Err.badRequest },
  },
  { name: 'a message without an action', send: (c) => post(c, '[{"channel":"x"}]'), expect: { fatal: Err.badRequest } },
  {
    name: 'a channel of the wrong type',
    send: (c) => post(c, '[{"action":10,"channel":42}]'),
    expect: { fatal: Err.invalidChannelName },
  },
  { name: 'an empty body', send: (c) => post(c, ''), expect: { fatal: Err.invalidRequestBody } },
  {
    name: 'msgpack: truncated body',
    send: (c) => post(c, Buffer.from([0x91, 0x84, 0xa6, 0x61]), MSGPACK_TYPE),
    expect: { fatal: Err.badRequest },
  },
  {
    name: 'msgpack: a map, not an array',
    send: (c) => post(c, Buffer.from(encodeMsgpackValue({ action: 0 })), MSGPACK_TYPE),
    expect: { fatal: Err.badRequest },
  },
  {
    name: 'an unsupported Content-Type',
    send: (c) => post(c, '<xml/>', 'text/xml'),
    expect: { fatal: Err.unsupportedMediaType },
  },
  {
    name: 'a body over maxCometBodySize',
    send: (c) => post(c, JSON.stringify([{ action: 0, id: 'x'.repeat(MAX_BODY) }])),
    expect: { fatal: Err.requestTooLarge },
  },
  {
    name: 'GET send: a body parameter over maxCometBodySize',
    send: (c) =>
      c.request('send', {
        query: `&body=${encodeURIComponent(JSON.stringify([{ action: 0, id: 'x'.repeat(MAX_BODY) }]))}`,
      }),
    expect: { fatal: Err.requestTooLarge },
  },
  {
    name: 'GET send without a body parameter',
    send: (c) => c.request('send'),
    expect: { fatal: Err.invalidRequestBody },
  },
  {
    name: 'GET send with malformed JSON',
    send: (c) => c.request('send', { query: '&body=%5B%7B' }),
    expect: { fatal: Err.badRequest },
  },
  { name: 'an unknown action', send: (c) => post(c, '[{"action":99}]'), expect: { fatalOnRecv: Err.protocolError } },
  {
    name: 'ACK from the client',
    send: (c) => post(c, '[{"action":1,"msgSerial":0,"count":1}]'),
    expect: { fatalOnRecv: Err.protocolError },
  },
  {
    name: 'message data that is a number',
    send: (c) => post(c, '[{"action":15,"channel":"x","msgSerial":0,"messages":[{"data":42}]}]'),
    expect: { nack: Err.invalidDataOrEncoding },
  },
  {
    name: 'messages that are not an array',
    send: (c) => post(c, '[{"action":15,"channel":"x","msgSerial":0,"messages":{"data":"a"}}]'),
    expect: { nack: Err.badRequest },
  },
];

interface RequestCase {
  name: string;
  /** A request aimed at `victim`'s connection that must not touch it. */
  request: (victim: RawCometClient, port: number) => Promise<CometResponse>;
  error: ErrorDef;
}

const wrongSecret = `key=${encodeURIComponent('testapp.full:wrong-secret')}`;
const otherApp = `key=${encodeURIComponent(KEYS.other)}`;
const unknownKey = 'AAAAAAAAAAAA!BBBBBBBBBBBBBBBB1';

const REQUEST_CASES: RequestCase[] = [
  {
    name: 'recv with a wrong secret',
    request: (v, port) => cometRequest(port, `/comet/${v.connectionKey}/recv?${wrongSecret}`),
    error: Err.invalidCredentials,
  },
  {
    name: 'recv without credentials',
    request: (v, port) => cometRequest(port, `/comet/${v.connectionKey}/recv`),
    error: Err.invalidCredentials,
  },
  {
    name: 'recv with an unsupported Authorization scheme',
    request: (v, port) =>
      cometRequest(port, `/comet/${v.connectionKey}/recv`, { headers: { authorization: 'Digest abc' } }),
    error: Err.invalidCredentials,
  },
  {
    name: "recv for another app's connection",
    request: (v, port) => cometRequest(port, `/comet/${v.connectionKey}/recv?${otherApp}`),
    error: Err.connectionNotFound,
  },
  {
    name: "send for another app's connection",
    request: (v, port) =>
      cometRequest(port, `/comet/${v.connectionKey}/send?${otherApp}`, {
        method: 'POST',
        body: '[{"action":7}]',
        headers: { 'content-type': JSON_TYPE },
      }),
    error: Err.connectionNotFound,
  },
  {
    name: "close for another app's connection",
    request: (v, port) => cometRequest(port, `/comet/${v.connectionKey}/close?${otherApp}`),
    error: Err.connectionNotFound,
  },
  {
    name: 'recv for an unknown connection key',
    request: (_v, port) => cometRequest(port, `/comet/${unknownKey}/recv?${FULL}`),
    error: Err.connectionNotFound,
  },
  {
    name: 'recv for a malformed connection key',
    request: (_v, port) => cometRequest(port, `/comet/not-a-key/recv?${FULL}`),
    error: Err.connectionNotFound,
  },
  {
    name: 'send for an unknown connection key',
    request: (_v, port) => cometRequest(port, `/comet/${unknownKey}/send?${FULL}`, { method: 'POST', body: '[]' }),
    error: Err.connectionNotFound,
  },
  {
    name: 'a malformed escape in the key',
    request: (_v, port) => cometRequest(port, `/comet/%E0%A4%A/recv?${FULL}`),
    error: Err.badRequest,
  },
  {
    name: 'PUT on send',
    request: (v, port) => cometRequest(port, `/comet/${v.connectionKey}/send?${FULL}`, { method: 'PUT', body: '[]' }),
    error: Err.methodNotAllowed,
  },
];

interface ConnectCase {
  name: string;
  query: string;
  headers?: Record<string, string>;
  error: ErrorDef;
}

const CONNECT_CASES: ConnectCase[] = [
  { name: 'no credentials', query: 'v=6', error: Err.invalidCredentials },
  { name: 'a wrong secret', query: `${wrongSecret}&v=6`, error: Err.invalidCredentials },
  { name: 'a malformed key', query: 'key=nonsense', error: Err.invalidCredentials },
  {
    name: 'an unsupported Authorization scheme',
    query: 'v=6',
    headers: { authorization: 'Digest abc' },
    error: Err.invalidCredentials,
  },
  { name: 'stream that is not a boolean', query: `${FULL}&stream=maybe`, error: Err.invalidParameterValue },
  { name: 'an unknown format', query: `${FULL}&format=xml`, error: Err.invalidParameterValue },
  { name: 'protocol version 1', query: `${FULL}&v=1`, error: Err.unsupportedProtocolVersion },
  { name: 'heartbeats that is not a boolean', query: `${FULL}&heartbeats=maybe`, error: Err.invalidParameterValue },
  { name: 'clientId "*" with a key', query: `${FULL}&clientId=*`, error: Err.invalidClientId },
  {
    name: 'a resume key with a wrong app key',
    query: `${wrongSecret}&resume=${unknownKey}`,
    error: Err.invalidCredentials,
  },
];

describe('comet bad input', () => {
  let ts: TestServer;
  /** A connection that must live through every case. */
  let bystander: RawCometClient;
  before(async () => {
    ts = await startServer({ maxCometBodySize: MAX_BODY, maxMessageSize: 1024 });
    bystander = await RawCometClient.connect(ts.port);
  });
  after(async () => {
    await bystander.close();
    await ts.close();
  });

  /** The bystander still answers, and a new connection works end to end. */
  async function serverStillServes(): Promise<void> {
    const id = `ping-${Math.random()}`;
    await bystander.send([{ action: Action.HEARTBEAT, id }]);
    await bystander.next(Action.HEARTBEAT, 5000, (pm) => pm.id === id);
    const c = await RawCometClient.connect(ts.port, { stream: false });
    await c.send([{ action: Action.ATTACH, channel: 'health' }]);
    await c.next(Action.ATTACHED);
    await c.send([
      { action: Action.MESSAGE, channel: 'health', msgSerial: 0, messages: [{ name: 'ok', data: 'fine' }] },
    ]);
    await c.next(Action.ACK);
    await c.close();
    await eventually(
      () =>
        ts.server.inspect.connections === 1 && ts.server.inspect.cometKeys === 1 && ts.server.inspect.channels === 0,
      3000,
      'only the bystander left',
    );
  }

  for (const tc of SEND_CASES) {
    const expect = tc.expect;
    const [what, def] =
      'fatal' in expect
        ? ['fails', expect.fatal]
        : 'fatalOnRecv' in expect
          ? ['ERROR on recv', expect.fatalOnRecv]
          : ['NACK', expect.nack];
    it(`send with ${tc.name} → ${what} ${def.code}`, async () => {
      const client = await RawCometClient.connect(ts.port);
      const res = await tc.send(client);
      if ('nack' in expect) {
        assert.equal(res.status, 204);
        const nack = await client.next(Action.NACK);
        assert.equal(nack.msgSerial, 0);
        assert.equal(nack.error?.code, def.code, nack.error?.message);
        await client.send([{ action: Action.HEARTBEAT, id: 'still-there' }]);
        await client.next(Action.HEARTBEAT, 5000, (pm) => pm.id === 'still-there');
        await client.close();
      } else {
        if ('fatal' in expect) assertHttpError(res, def);
        else assert.equal(res.status, 204);
        await client.waitClosed();
        const err = client.log.find((pm) => pm.action === Action.ERROR);
        assert.equal(err?.error?.code, def.code, err?.error?.message);
        assert.equal(err?.error?.statusCode, def.statusCode);
        client.drop();
      }
      await serverStillServes();
    });
  }

  for (const tc of REQUEST_CASES) {
    it(`${tc.name} → ${tc.error.code}, the connection is untouched`, async () => {
      const victim = await RawCometClient.connect(ts.port);
      const res = await tc.request(victim, ts.port);
      assertHttpError(res, tc.error);
      await victim.send([{ action: Action.HEARTBEAT, id: 'untouched' }]);
      await victim.next(Action.HEARTBEAT, 5000, (pm) => pm.id === 'untouched');
      assert.equal(victim.recvCount, 1, 'the victim kept its recv');
      await victim.close();
      await serverStillServes();
    });
  }

  it('a flood of concurrent recvs for one key: each ends cleanly, the newest keeps the connection', async () => {
    const client = await RawCometClient.connect(ts.port, { stream: false, autoRecv: false });
    const flood = Array.from({ length: 50 }, () => client.request('recv'));
    // Once every recv but one has been answered, the one left is the connection's recv.
    let settled = 0;
    for (const r of flood) void r.then(() => settled++);
    await eventually(() => settled === flood.length - 1, 5000, 'older recvs ended');
    await client.send([{ action: Action.HEARTBEAT, id: 'after-flood' }]);
    const results = await Promise.all(flood);
    for (const r of results) assert.equal(r.status, 200);
    const answered = results.filter((r) => r.batches.flat().length > 0);
    assert.equal(answered.length, 1);
    assert.deepEqual(answered[0]!.batches, [[{ action: Action.HEARTBEAT, id: 'after-flood' }]]);
    assert.equal(results.filter((r) => r.batches.length === 1 && r.batches[0]!.length === 0).length, flood.length - 1);
    await client.close();
    await serverStillServes();
  });

  for (const tc of CONNECT_CASES) {
    it(`connect with ${tc.name} → ${tc.error.code}`, async () => {
      const res = await cometRequest(ts.port, `/comet/connect?${tc.query}`, { headers: tc.headers });
      assertHttpError(res, tc.error);
      await serverStillServes();
    });
  }
});
