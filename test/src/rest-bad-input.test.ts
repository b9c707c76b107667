/**
 * Bad input over REST, as a table: each malformed request, the error it must produce (status,
 * code, `Content-Type: application/json`, `X-Ably-ErrorCode`), and a check that the server still
 * serves other requests afterwards; then a real cursor still pages. An absolute-form request
 * target and no request reading another app's data are in rest-bad-input-routing.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Err, encodeMsgpackValue, type ErrorDef } from '@encke/protocol';
import { jsonError, responseObjects, stringField } from './helpers/json.js';
import { callRest, MAX_BODY, MAX_MESSAGE_SIZE, startSeededServer, type Request } from './helpers/rest-bad-input.js';
import { KEYS, type TestServer } from './helpers/server.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

interface Case extends Request {
  name: string;
  expect: ErrorDef;
}

/** Cursors taken from real Link headers in `before`. */
const cursors = { otherChannel: '', fromSerialOtherChannel: '' };

const CASES: Case[] = [
  { name: 'channel name starting with ":"', path: '/channels/%3Ax/messages', expect: Err.invalidChannelName },
  { name: 'qualified channel name', path: '/channels/%5Bmeta%5Dlog/messages', expect: Err.invalidChannelName },
  { name: 'channel name with a newline', path: '/channels/a%0Ab/messages', expect: Err.invalidChannelName },
  { name: 'overlong channel name', path: `/channels/${'n'.repeat(3000)}/messages`, expect: Err.invalidChannelName },
  {
    name: 'publish to an invalid channel name',
    method: 'POST',
    path: '/channels/%3Ax/messages',
    body: '{"data":"x"}',
    expect: Err.invalidChannelName,
  },
  { name: 'truncated percent-encoding', path: '/channels/%E0%A4%A/messages', expect: Err.badRequest },
  { name: 'percent-encoding that is not UTF-8', path: '/channels/%FF/messages', expect: Err.badRequest },
  { name: 'negative limit', path: '/channels/known/messages?limit=-1', expect: Err.invalidParameterValue },
  { name: 'zero limit', path: '/channels/known/messages?limit=0', expect: Err.invalidParameterValue },
  { name: 'limit over 1000', path: '/channels/known/messages?limit=1001', expect: Err.invalidParameterValue },
  {
    name: 'huge limit',
    path: '/channels/known/messages?limit=99999999999999999999',
    expect: Err.invalidParameterValue,
  },
  { name: 'limit that is not a number', path: '/channels/known/messages?limit=ten', expect: Err.invalidParameterValue },
  { name: 'unknown direction', path: '/channels/known/messages?direction=sideways', expect: Err.invalidParameterValue },
  {
    name: 'start that is not a time',
    path: '/channels/known/messages?start=yesterday',
    expect: Err.invalidParameterValue,
  },
  { name: 'start after end', path: '/channels/known/messages?start=2000&end=1000', expect: Err.invalidParameterValue },
  {
    name: 'forged cursor',
    path: '/channels/known/messages?cursor=give-me-everything',
    expect: Err.invalidParameterValue,
  },
  {
    name: 'cursor past its own bound',
    path: '/channels/known/messages?cursor=abc:1:5:0',
    expect: Err.invalidParameterValue,
  },
  {
    name: 'cursor from another channel',
    path: '/channels/known/messages?cursor=@otherChannel',
    expect: Err.invalidParameterValue,
  },
  {
    name: "cursor used with another app's key",
    key: KEYS.other,
    path: '/channels/other-channel/messages?cursor=@otherChannel',
    expect: Err.invalidParameterValue,
  },
  { name: 'malformed from_serial', path: '/channels/known/messages?from_serial=0', expect: Err.invalidParameterValue },
  {
    name: 'from_serial of another channel',
    path: '/channels/known/messages?from_serial=@fromSerialOtherChannel',
    expect: Err.invalidParameterValue,
  },
  {
    name: 'presence history with a forged cursor',
    path: '/channels/known/presence/history?cursor=zz',
    expect: Err.invalidParameterValue,
  },
  { name: 'unknown envelope', path: '/channels/known/messages?envelope=xml', expect: Err.invalidParameterValue },
  {
    name: 'body over the size limit',
    method: 'POST',
    path: '/channels/known/messages',
    body: JSON.stringify({ data: 'x'.repeat(MAX_BODY) }),
    expect: Err.requestTooLarge,
  },
  {
    name: 'message over maxMessageSize',
    method: 'POST',
    path: '/channels/known/messages',
    body: JSON.stringify({ data: 'x'.repeat(MAX_MESSAGE_SIZE + 1) }),
    expect: Err.maxMessageSizeExceeded,
  },
  {
    name: 'unsupported content type',
    method: 'POST',
    path: '/channels/known/messages',
    headers: { 'content-type': 'text/xml' },
    body: '<m/>',
    expect: Err.unsupportedMediaType,
  },
  {
    name: 'malformed JSON body',
    method: 'POST',
    path: '/channels/known/messages',
    body: '{"data":',
    expect: Err.badRequest,
  },
  {
    name: 'malformed msgpack body',
    method: 'POST',
    path: '/channels/known/messages',
    headers: { 'content-type': 'application/x-msgpack' },
    body: new Uint8Array([0x92, 0xa5, 0x61]),
    expect: Err.badRequest,
  },
  { name: 'empty body', method: 'POST', path: '/channels/known/messages', body: '', expect: Err.invalidRequestBody },
  {
    name: 'body that is not a message',
    method: 'POST',
    path: '/channels/known/messages',
    body: '42',
    expect: Err.badRequest,
  },
  {
    name: 'empty array of messages',
    method: 'POST',
    path: '/channels/known/messages',
    body: '[]',
    expect: Err.badRequest,
  },
  {
    name: 'data that is a number',
    method: 'POST',
    path: '/channels/known/messages',
    body: '{"data":42}',
    expect: Err.invalidDataOrEncoding,
  },
  {
    name: 'msgpack data of the wrong type',
    method: 'POST',
    path: '/channels/known/messages',
    headers: { 'content-type': 'application/x-msgpack' },
    body: encodeMsgpackValue([{ data: [1, 2] }]),
    expect: Err.invalidDataOrEncoding,
  },
  {
    name: 'invalid base64 data',
    method: 'POST',
    path: '/channels/known/messages',
    body: '{"data":"!!","encoding":"base64"}',
    expect: Err.invalidDataOrEncoding,
  },
  {
    name: 'message update on an ordinary channel',
    method: 'POST',
    path: '/channels/known/messages',
    body: '{"data":"x","action":1}',
    expect: Err.mutableMessagesDisabled,
  },
  {
    name: 'forged connectionKey',
    method: 'POST',
    path: '/channels/known/messages',
    body: '{"data":"x","connectionKey":"AAAAAAAAAAAA!BBBBBBBBBBBBBBBB1"}',
    expect: Err.invalidConnectionIdInMessage,
  },
  {
    name: 'X-Ably-ClientId that is not base64',
    method: 'POST',
    path: '/channels/known/messages',
    headers: { 'x-ably-clientid': 'not base64!' },
    body: '{"data":"x"}',
    expect: Err.invalidClientId,
  },
  {
    name: 'X-Ably-ClientId "*"',
    method: 'POST',
    path: '/channels/known/messages',
    headers: { 'x-ably-clientid': b64('*') },
    body: '{"data":"x"}',
    expect: Err.invalidClientId,
  },
  { name: 'no credentials', key: null, path: '/channels/known/messages', expect: Err.invalidCredentials },
  {
    name: 'wrong secret',
    key: 'testapp.full:wrong-secret-0001',
    path: '/channels/known/messages',
    expect: Err.invalidCredentials,
  },
  {
    name: 'unknown key',
    key: 'nosuchapp.k:secret-000001',
    path: '/channels/known/messages',
    expect: Err.invalidCredentials,
  },
  {
    name: 'unsupported Authorization scheme',
    key: null,
    headers: { authorization: 'Digest abc' },
    path: '/channels/known/messages',
    expect: Err.invalidCredentials,
  },
  {
    name: 'publish without the capability',
    key: KEYS.subscribeOnly,
    method: 'POST',
    path: '/channels/known/messages',
    body: '{"data":"x"}',
    expect: Err.capabilityDenied,
  },
  {
    name: 'history without the capability',
    key: KEYS.subscribeOnly,
    path: '/channels/known/messages',
    expect: Err.capabilityDenied,
  },
  {
    name: 'presence history without the capability',
    key: KEYS.subscribeOnly,
    path: '/channels/known/presence/history',
    expect: Err.capabilityDenied,
  },
  {
    name: 'channel status without the capability',
    key: KEYS.limited,
    path: '/channels/readonly:x',
    expect: Err.capabilityDenied,
  },
  { name: 'stats without the capability', key: KEYS.limited, path: '/stats', expect: Err.capabilityDenied },
  { name: 'channel list by an unknown field', path: '/channels?by=name', expect: Err.invalidParameterValue },
  { name: 'stats by an unknown unit', path: '/stats?unit=week', expect: Err.invalidParameterValue },
  { name: 'stats from an impossible interval', path: '/stats?start=2023-13-01', expect: Err.invalidParameterValue },
  { name: 'stats with a forged cursor', path: '/stats?cursor=-5', expect: Err.invalidParameterValue },
  {
    name: 'batch with an unknown protocol version',
    method: 'POST',
    path: '/messages',
    headers: { 'x-ably-version': 'six' },
    body: '[]',
    expect: Err.unsupportedProtocolVersion,
  },
  {
    name: 'batch spec that is not an object',
    method: 'POST',
    path: '/messages',
    body: '["known"]',
    expect: Err.badRequest,
  },
  {
    name: 'batch spec without channels',
    method: 'POST',
    path: '/messages',
    body: '{"channels":[],"messages":{"data":"x"}}',
    expect: Err.badRequest,
  },
  {
    name: 'batch spec without messages',
    method: 'POST',
    path: '/messages',
    body: '{"channels":["a"]}',
    expect: Err.badRequest,
  },
  {
    name: 'batch spec with a bad message',
    method: 'POST',
    path: '/messages',
    body: '{"channels":["a"],"messages":{"data":7}}',
    expect: Err.invalidDataOrEncoding,
  },
  {
    name: 'batch over the channel limit',
    method: 'POST',
    path: '/messages',
    body: JSON.stringify({ channels: ['a', 'b', 'c', 'd', 'e', 'f'], messages: { data: 'x' } }),
    expect: Err.batchError,
  },
  {
    name: 'sandbox endpoint outside sandbox mode',
    key: null,
    method: 'POST',
    path: '/apps',
    body: '{}',
    expect: Err.notFound,
  },
  { name: 'unknown endpoint', path: '/nothing/here', expect: Err.notFound },
  { name: 'method not allowed', method: 'DELETE', path: '/channels/known/messages', expect: Err.methodNotAllowed },
];

function withCursors(path: string): string {
  return path.replace(/@(\w+)/, (_, name: keyof typeof cursors) => encodeURIComponent(cursors[name]));
}

describe('rest bad input', () => {
  let ts: TestServer;
  const call = (r: Request): Promise<Response> => callRest(ts.port, r, withCursors(r.path));
  const nextCursor = (res: Response): string => {
    const link = res.headers.get('link') ?? '';
    const m = /<\.\/\w+\?([^>]*)>; rel="next"/.exec(link);
    assert.ok(m, `a next link in ${link}`);
    return new URLSearchParams(m[1]).get('cursor')!;
  };

  before(async () => {
    ts = await startSeededServer();
    cursors.otherChannel = nextCursor(await call({ path: '/channels/other-channel/messages?limit=1' }));
    const [first] = await responseObjects(await call({ path: '/channels/other-channel/messages?limit=1' }));
    const serial = stringField(first ?? {}, 'serial');
    cursors.fromSerialOtherChannel = serial.slice(0, serial.lastIndexOf(':'));
  });
  after(async () => {
    await ts.close();
  });

  for (const c of CASES) {
    it(`${c.name}: ${c.expect.statusCode} ${c.expect.code}`, async () => {
      const res = await call(c);
      const text = await res.text();
      assert.equal(res.status, c.expect.statusCode, text);
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.equal(res.headers.get('x-ably-errorcode'), String(c.expect.code));
      assert.ok(res.headers.get('x-ably-errormessage'));
      const error = jsonError(text);
      assert.equal(error.code, c.expect.code);
      assert.equal(error.statusCode, c.expect.statusCode);
      assert.equal(typeof error.message, 'string');
      // The server still serves everyone else.
      assert.equal(
        (await call({ method: 'POST', path: '/channels/still-up/messages', body: '{"data":"ok"}' })).status,
        201,
      );
    });
  }

  it('pages with a real cursor once the bad ones are refused', async () => {
    const first = await call({ path: '/channels/known/messages?limit=1' });
    const cursor = nextCursor(first);
    const second = await call({ path: `/channels/known/messages?limit=1&cursor=${encodeURIComponent(cursor)}` });
    assert.equal(second.status, 200);
    assert.deepEqual(
      (await responseObjects(second)).map((m) => m.data),
      ['one'],
    );
  });
});
