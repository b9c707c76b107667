/**
 * Script-tag (JSONP) polling on /comet: every answer is `200 application/javascript` calling the
 * request's callback with `{statusCode, response, headers}` (errors and 204s included), sends come
 * by GET `?body=`; callback names are validated strictly, oversized bodies refused, and whatever a
 * message holds cannot break out of the script.
 */
import assert from 'node:assert/strict';
import { connect as connectTcp } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Action, Err, type ProtocolMessage } from '@encke/protocol';
import { jsonError } from './helpers/json.js';
import { jsonpRequest, type JsonpAnswer } from './helpers/jsonp.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

const K = `key=${encodeURIComponent(KEYS.full)}`;
const JSONP = 'envelope=jsonp&callback=cb';

function messages(a: JsonpAnswer): ProtocolMessage[] {
  assert.ok(Array.isArray(a.envelope?.response), `an array of messages: ${a.text.slice(0, 300)}`);
  return a.envelope.response as ProtocolMessage[];
}

function errorCode(a: JsonpAnswer): number | undefined {
  const r = a.envelope?.response;
  return r && !Array.isArray(r) ? r.error.code : undefined;
}

describe('comet JSONP (script-tag polling)', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer({ maxMessageSize: 1024, maxCometBodySize: 4096, maxHeaderSize: 16_384 });
  });
  after(() => ts.close());

  async function connect(callback = 'cb'): Promise<{ key: string; answer: JsonpAnswer }> {
    const answer = await jsonpRequest(
      ts.port,
      `/comet/connect?${K}&v=2&stream=false&envelope=jsonp&callback=${encodeURIComponent(callback)}`,
    );
    const [connected] = messages(answer);
    assert.equal(connected?.action, Action.CONNECTED);
    return { key: connected.connectionDetails!.connectionKey, answer };
  }

  const send = (key: string, body: unknown): Promise<JsonpAnswer> =>
    jsonpRequest(ts.port, `/comet/${key}/send?${K}&${JSONP}&body=${encodeURIComponent(JSON.stringify(body))}`);
  const recv = (key: string): Promise<JsonpAnswer> => jsonpRequest(ts.port, `/comet/${key}/recv?${K}&${JSONP}`);

  it('connect answers a script calling the callback, never sniffed, never cached', async () => {
    const { answer } = await connect();
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], 'application/javascript; charset=utf-8');
    assert.equal(answer.headers['x-content-type-options'], 'nosniff');
    assert.match(String(answer.headers['cache-control']), /no-store/);
    assert.match(answer.text, /^\/\*\*\/cb\(\{"statusCode":200,"response":\[/);
    assert.equal(answer.envelope?.statusCode, 200);
  });

  it("takes ably-js 1.x's callbacks (_ablyjs_jsonp._(n)) and dotted names", async () => {
    await connect('_ablyjs_jsonp._(12)');
    await connect('app.on');
  });

  it('sends by GET ?body= (answered {statusCode: 204}) and receives the replies on the next recv', async () => {
    const { key } = await connect();
    const sent = await send(key, [{ action: Action.ATTACH, channel: 'jsonp-room' }]);
    assert.equal(sent.status, 200);
    assert.deepEqual(sent.envelope, { statusCode: 204 });
    const got = await recv(key);
    assert.equal(messages(got).find((pm) => pm.action === Action.ATTACHED)?.channel, 'jsonp-room');
    const closed = await jsonpRequest(ts.port, `/comet/${key}/close?${K}&${JSONP}`);
    assert.deepEqual(closed.envelope, { statusCode: 204 });
  });

  it('a recv is a poll even when stream=true is asked: a script must end to run', async () => {
    const { key } = await connect();
    await send(key, [{ action: Action.ATTACH, channel: 'jsonp-poll' }]);
    const got = await jsonpRequest(ts.port, `/comet/${key}/recv?${K}&${JSONP}&stream=true`);
    assert.ok(messages(got).length >= 1);
  });

  it('no message content can end the script or the element around it', async () => {
    const { key } = await connect();
    await send(key, [{ action: Action.ATTACH, channel: 'jsonp-safe' }]);
    await recv(key);
    const nasty = '</script><script>globalThis.pwned=1</script><!-- \u2028 \u2029 -->';
    await send(key, [
      { action: Action.MESSAGE, channel: 'jsonp-safe', msgSerial: 0, messages: [{ name: 'n', data: nasty }] },
    ]);
    const got = await recv(key);
    assert.ok(!/<\/script|<!--|\u2028|\u2029/i.test(got.text), got.text);
    const delivered = messages(got).find((pm) => pm.action === Action.MESSAGE);
    assert.equal(delivered?.messages?.[0]?.data, nasty);
  });

  const badCallbacks = [
    'alert(document.cookie)',
    'cb;alert(1)',
    'a[0]',
    'cb x',
    '</script>',
    'cb()',
    'cb(1,2)',
    'cb(x)',
    '1abc',
    'a..b',
    'a.',
    '.a',
    'x'.repeat(129),
    'cb\u2028',
    'cb%0a',
    'eval("1")',
  ];
  for (const callback of badCallbacks) {
    it(`refuses the callback ${JSON.stringify(callback.slice(0, 30))} with a plain 40003, echoing nothing`, async () => {
      const before = ts.server.inspect.connections;
      const a = await jsonpRequest(
        ts.port,
        `/comet/connect?${K}&v=2&envelope=jsonp&callback=${encodeURIComponent(callback)}`,
      );
      assert.equal(a.status, 400);
      assert.match(String(a.headers['content-type']), /^application\/json/);
      assert.equal(jsonError(a.text).code, Err.invalidParameterValue.code);
      assert.equal(ts.server.inspect.connections, before, 'no connection was opened');
    });
  }

  it('refuses envelope=jsonp without a callback, and an unknown envelope', async () => {
    for (const q of ['envelope=jsonp', 'envelope=jsonp&callback=', 'envelope=xml&callback=cb']) {
      const a = await jsonpRequest(ts.port, `/comet/connect?${K}&v=2&${q}`);
      assert.equal(a.status, 400, q);
      assert.equal(jsonError(a.text).code, Err.invalidParameterValue.code, q);
    }
  });

  const errors: [string, string, number, number][] = [
    [
      'a wrong key',
      `/comet/connect?key=${encodeURIComponent('testapp.full:nope')}&v=2&${JSONP}`,
      401,
      Err.invalidCredentials.code,
    ],
    ['no credentials', `/comet/connect?v=2&${JSONP}`, 401, Err.invalidCredentials.code],
    ['an unsupported version', `/comet/connect?${K}&v=1&${JSONP}`, 400, Err.unsupportedProtocolVersion.code],
    ['a version that is not a number', `/comet/connect?${K}&v=two&${JSONP}`, 400, Err.unsupportedProtocolVersion.code],
    [
      'an unknown connection key',
      `/comet/AAAAAAAAAAAA!aaaaaaaaaaaaaaaa0/recv?${K}&${JSONP}`,
      400,
      Err.connectionNotFound.code,
    ],
    ['a bad stream flag', `/comet/connect?${K}&v=2&stream=maybe&${JSONP}`, 400, Err.invalidParameterValue.code],
  ];
  for (const [what, path, status, code] of errors) {
    it(`answers ${what} as JSONP: statusCode ${status}, error ${code}`, async () => {
      const a = await jsonpRequest(ts.port, path);
      assert.equal(a.status, 200);
      assert.equal(a.envelope?.statusCode, status);
      if (Array.isArray(a.envelope?.response)) {
        // Connect answers with the protocol's own ERROR message, as the SDK expects.
        assert.equal(a.envelope.response.at(-1)?.error?.code, code);
      } else {
        assert.equal(errorCode(a), code);
      }
      assert.equal(a.envelope?.headers?.['X-Ably-ErrorCode'], String(code));
    });
  }

  it('refuses a GET send without body (40001) or with broken JSON (40000), failing the connection', async () => {
    for (const [q, code] of [
      ['', Err.invalidRequestBody.code],
      ['&body=%5B%7B', Err.badRequest.code],
    ] as const) {
      const { key } = await connect();
      const a = await jsonpRequest(ts.port, `/comet/${key}/send?${K}&${JSONP}${q}`);
      assert.equal(errorCode(a), code);
      const after = await recv(key);
      assert.equal(messages(after).at(-1)?.action, Action.ERROR);
    }
  });

  it('refuses a GET body over maxCometBodySize with 40009 (413)', async () => {
    const { key } = await connect();
    const big = [{ action: Action.MESSAGE, channel: 'x', msgSerial: 0, messages: [{ data: 'x'.repeat(5000) }] }];
    const a = await send(key, big);
    assert.equal(a.envelope?.statusCode, 413);
    assert.equal(errorCode(a), Err.requestTooLarge.code);
  });

  it('a request head over maxHeaderSize is refused by HTTP itself (431)', async () => {
    const { key } = await connect();
    const head = `GET /comet/${key}/send?${K}&${JSONP}&body=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connectTcp(ts.port, '127.0.0.1', () => socket.write(head));
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => (text += c));
      socket.on('close', () => resolve(text));
      socket.on('error', (err) => (text ? resolve(text) : reject(err)));
    });
    assert.match(answer, /^HTTP\/1\.1 431 /);
  });

  it('still serves after all of that', async () => {
    const { key } = await connect();
    await send(key, [{ action: Action.ATTACH, channel: 'jsonp-after' }]);
    assert.ok(messages(await recv(key)).some((pm) => pm.action === Action.ATTACHED));
  });
});
