/**
 * The comet recv framings and modes over plain HTTP (the browser side is in
 * browser-comet-techniques.test.ts): plain polling (`wait=0`), multipart/x-mixed-replace and
 * multipart/mixed, the forever-iframe (htmlfile), Server-Sent Events as a comet downstream with
 * Last-Event-ID continuation, and their bad input.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Action, Err, type ProtocolMessage } from '@encke/protocol';
import { rest } from './helpers/ably.js';
import { EventStreamReader } from './helpers/event-stream.js';
import { bodyError, jsonBatch } from './helpers/json.js';
import { cometRequest } from './helpers/raw-comet.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

const K = `key=${encodeURIComponent(KEYS.full)}`;

/** A response read as text until it ends or `done(text)` holds (then the socket is cut). */
function readText(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  done: (text: string) => boolean = () => false,
): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let text = '';
      const finish = (): void =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text });
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
        if (done(text)) {
          res.destroy();
          finish();
        }
      });
      res.on('end', finish);
      res.on('close', finish);
    });
    req.on('error', reject);
    req.end();
  });
}

function keyOf(messages: ProtocolMessage[]): string {
  const connected = messages.find((pm) => pm.action === Action.CONNECTED);
  assert.ok(connected, 'a CONNECTED');
  return connected.connectionDetails!.connectionKey;
}

describe('comet framings', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer({ maxIframeBytes: 4000, maxCometStreamDuration: 60_000 });
  });
  after(() => ts.close());

  async function connectPoll(): Promise<string> {
    const res = await cometRequest(ts.port, `/comet/connect?${K}&v=6&stream=false`);
    return keyOf(res.batches.flat());
  }

  it('plain polling: wait=0 answers at once, with [] or with what is queued', async () => {
    const res = await cometRequest(ts.port, `/comet/connect?${K}&v=6&wait=0`);
    const key = keyOf(res.batches.flat());
    const started = Date.now();
    const empty = await cometRequest(ts.port, `/comet/${key}/recv?${K}&wait=0`);
    assert.deepEqual(empty.batches, [[]]);
    assert.ok(Date.now() - started < 1000, 'not held');
    await cometRequest(ts.port, `/comet/${key}/send?${K}`, {
      method: 'POST',
      body: JSON.stringify([{ action: Action.ATTACH, channel: 'poll' }]),
    });
    let got: ProtocolMessage[] = [];
    for (let i = 0; i < 50 && !got.some((pm) => pm.action === Action.ATTACHED); i++) {
      got = got.concat((await cometRequest(ts.port, `/comet/${key}/recv?${K}&wait=0`)).batches.flat());
    }
    assert.ok(got.some((pm) => pm.action === Action.ATTACHED));
  });

  for (const [what, query, accept, type] of [
    [
      'Accept: multipart/x-mixed-replace',
      '',
      'multipart/x-mixed-replace',
      'multipart/x-mixed-replace; boundary=encke-batch',
    ],
    ['envelope=multipart', '&envelope=multipart', '', 'multipart/x-mixed-replace; boundary=encke-batch'],
    ['envelope=mixed', '&envelope=mixed', '', 'multipart/mixed; boundary=encke-batch'],
  ] as const) {
    it(`multipart via ${what}: one JSON part per batch, each followed by the boundary`, async () => {
      const res = await readText(ts.port, `/comet/connect?${K}&v=6${query}`, accept ? { Accept: accept } : {}, (t) =>
        t.includes('"action":4'),
      );
      assert.equal(res.status, 200);
      assert.equal(res.type, type);
      assert.match(
        res.text,
        /^--encke-batch\r\nContent-Type: application\/json\r\n\r\n\[\{"action":4,.*\}\]\r\n--encke-batch\r\n/s,
      );
    });
  }

  it('htmlfile: a padded text/html document posting each batch to the parent origin', async () => {
    const res = await readText(
      ts.port,
      `/comet/connect?${K}&v=6&envelope=htmlfile&origin=${encodeURIComponent('http://app.example:8080')}`,
      {},
      (t) => t.includes('"action":4'),
    );
    assert.equal(res.status, 200);
    assert.equal(res.type, 'text/html; charset=utf-8');
    assert.match(res.text, /parent\.postMessage\(\{encke:m\},"http:\/\/app\.example:8080"\)/);
    assert.ok(res.text.indexOf('<script>p([{"action":4') > 1024, 'padding before the first batch');
  });

  it('htmlfile: message content cannot end the script, and the document ends at its byte budget', async () => {
    const key = await connectPoll();
    await cometRequest(ts.port, `/comet/${key}/send?${K}`, {
      method: 'POST',
      body: JSON.stringify([{ action: Action.ATTACH, channel: 'iframe' }]),
    });
    await cometRequest(ts.port, `/comet/${key}/recv?${K}&stream=false`);
    const reading = readText(ts.port, `/comet/${key}/recv?${K}&envelope=htmlfile&callback=app.on`);
    const channel = rest(ts, 'json').channels.get('iframe');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await channel.publish('nasty', '</script><script>alert(1)</script><!--');
    for (let i = 0; i < 4; i++) await channel.publish('filler', 'x'.repeat(1000));
    const res = await reading;
    assert.match(res.text, /function p\(m\)\{parent\.app\.on\(m\)\}/);
    assert.ok(!res.text.slice(res.text.indexOf('</head>')).includes('</script><script>alert'), 'escaped');
    assert.ok(res.text.includes('\\u003c/script>'));
    assert.ok(res.text.trimEnd().endsWith('</body></html>'), 'ended at the budget');
  });

  const bad: [string, string, number][] = [
    ['an unknown envelope', '&envelope=websocket', Err.invalidParameterValue.code],
    ['htmlfile without origin or callback', '&envelope=htmlfile', Err.invalidParameterValue.code],
    [
      'htmlfile with a bad origin',
      `&envelope=htmlfile&origin=${encodeURIComponent('javascript:alert(1)')}`,
      Err.invalidParameterValue.code,
    ],
    [
      'htmlfile with an origin with a path',
      `&envelope=htmlfile&origin=${encodeURIComponent('http://a.example/x')}`,
      Err.invalidParameterValue.code,
    ],
    [
      'htmlfile with a bad callback',
      `&envelope=htmlfile&callback=${encodeURIComponent('a;b')}`,
      Err.invalidParameterValue.code,
    ],
    ['wait other than 0', '&wait=5', Err.invalidParameterValue.code],
    ['a bad stream flag', '&envelope=sse&stream=yes', Err.invalidParameterValue.code],
  ];
  for (const [what, query, code] of bad) {
    it(`refuses ${what} with ${code} before anything is opened`, async () => {
      const before = ts.server.inspect.connections;
      const res = await cometRequest(ts.port, `/comet/connect?${K}&v=6${query}`);
      assert.equal(res.status, 400);
      assert.equal(bodyError(res.body).code, code);
      assert.equal(ts.server.inspect.connections, before);
    });
  }
});

describe('comet: Server-Sent Events downstream', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer({ cometSseRetry: 250 });
  });
  after(() => ts.close());

  async function attachAndPublish(key: string, channel: string, names: string[]): Promise<void> {
    await cometRequest(ts.port, `/comet/${key}/send?${K}`, {
      method: 'POST',
      body: JSON.stringify([{ action: Action.ATTACH, channel }]),
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const n of names) await rest(ts, 'json').channels.get(channel).publish(n, 'x');
  }

  const batches = (r: EventStreamReader): ProtocolMessage[] => r.events.flatMap((e) => jsonBatch(e.data));
  const names = (pms: ProtocolMessage[]): string[] =>
    pms.filter((pm) => pm.action === Action.MESSAGE).flatMap((pm) => pm.messages!.map((m) => m.name!));

  it('streams batches as SSE events with ids <key>.<count> and a retry delay', async () => {
    const r = await EventStreamReader.open(`http://127.0.0.1:${ts.port}/comet/connect?${K}&v=6`, {
      Accept: 'text/event-stream',
    });
    assert.match(String(r.res.headers['content-type']), /^text\/event-stream/);
    await r.until(() => r.events.length >= 1, 'CONNECTED');
    assert.match(r.raw, /^retry: 250\n\n/);
    const key = keyOf(batches(r));
    assert.equal(r.lastEventId, `${key}.1`);
    await attachAndPublish(key, 'sse-ids', ['a', 'b']);
    await r.until(() => names(batches(r)).length >= 2, 'two messages');
    assert.match(r.lastEventId, new RegExp(`^${key.replace(/[!]/g, '\\$&')}\\.\\d+$`));
    r.cut();
  });

  it('a stream coming back with Last-Event-ID gets what came after, on the same connection', async () => {
    const first = await EventStreamReader.open(`http://127.0.0.1:${ts.port}/comet/connect?${K}&v=6`, {
      Accept: 'text/event-stream',
    });
    await first.until(() => first.events.length >= 1, 'CONNECTED');
    const key = keyOf(batches(first));
    await attachAndPublish(key, 'sse-back', ['a', 'b']);
    await first.until(() => names(batches(first)).length >= 2, 'two messages');
    // As if the browser had only got up to CONNECTED when the stream broke.
    const confirmed = `${key}.1`;
    first.cut();
    await rest(ts, 'json').channels.get('sse-back').publish('c', 'x');
    const second = await EventStreamReader.open(`http://127.0.0.1:${ts.port}/comet/connect?${K}&v=6`, {
      Accept: 'text/event-stream',
      'Last-Event-ID': confirmed,
    });
    await second.until(() => names(batches(second)).length >= 3, 'the rest');
    assert.deepEqual(names(batches(second)), ['a', 'b', 'c']);
    assert.ok(!batches(second).some((pm) => pm.action === Action.CONNECTED), 'not a new CONNECTED: the same transport');
    second.cut();
  });

  it('a Last-Event-ID this node cannot continue resumes the connection (CONNECTED, same id)', async () => {
    const first = await EventStreamReader.open(`http://127.0.0.1:${ts.port}/comet/connect?${K}&v=6`, {
      Accept: 'text/event-stream',
    });
    await first.until(() => first.events.length >= 1, 'CONNECTED');
    const connected = batches(first)[0]!;
    first.cut();
    const second = await EventStreamReader.open(`http://127.0.0.1:${ts.port}/comet/connect?${K}&v=6`, {
      Accept: 'text/event-stream',
      'Last-Event-ID': `${connected.connectionDetails!.connectionKey}.999`,
    });
    await second.until(() => second.events.length >= 1, 'CONNECTED');
    const again = batches(second)[0]!;
    assert.equal(again.action, Action.CONNECTED);
    assert.equal(again.connectionId, connected.connectionId);
    assert.equal(again.error, undefined);
    second.cut();
  });

  it('refuses a Last-Event-ID that is not one of its ids (40003)', async () => {
    const res = await cometRequest(ts.port, `/comet/connect?${K}&v=6&envelope=sse`, {
      headers: { 'Last-Event-ID': '<script>' },
    });
    assert.equal(res.status, 400);
    assert.equal(bodyError(res.body).code, Err.invalidParameterValue.code);
  });
});
