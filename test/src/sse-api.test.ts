/**
 * Ably's SSE and raw HTTP streaming API (`GET /sse`, `GET /event-stream`), driven over node:http:
 * events and their ids, envelopes, resume with lastEvent / Last-Event-ID (nothing lost, nothing
 * twice, also from inside one publish of several messages), rewind, presence, keepalives and
 * heartbeats, error events, and a table of bad requests.
 */
import { isPlainObject } from '@encke/protocol';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TokenParams } from '@encke/server';
import { FakeClock } from '@encke/server/internal';
import { closeAll, connect, realtime, rest } from './helpers/ably.js';
import { EventStreamReader } from './helpers/event-stream.js';
import { isErrorFields, jsonAs, jsonError } from './helpers/json.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

const K = encodeURIComponent(KEYS.full);

interface Envelope {
  name?: string;
  data?: unknown;
  channel?: string;
  serial?: string;
  clientId?: string;
  action?: number;
}

/** Whether an event's data has the fields an Envelope names, of their types where present. */
function isEnvelope(v: unknown): v is Envelope {
  return (
    isPlainObject(v) &&
    ['name', 'channel', 'serial', 'clientId'].every((k) => v[k] === undefined || typeof v[k] === 'string') &&
    (v.action === undefined || typeof v.action === 'number')
  );
}

const envelope = (text: string): Envelope => jsonAs(text, isEnvelope, 'an enveloped message');

const names = (events: { data: string }[]): (string | undefined)[] => events.map((e) => envelope(e.data).name);

describe('SSE API: /sse and /event-stream', () => {
  let ts: TestServer;
  let base: string;
  const open: EventStreamReader[] = [];

  before(async () => {
    ts = await startServer();
    base = `http://127.0.0.1:${ts.port}`;
  });
  after(async () => {
    for (const r of open) r.cut();
    await ts.close();
  });

  async function stream(
    query: string,
    headers: Record<string, string> = {},
    path = '/sse',
    style: 'sse' | 'json' = 'sse',
  ): Promise<EventStreamReader> {
    const r = await EventStreamReader.open(`${base}${path}?${query}`, headers, style);
    open.push(r);
    return r;
  }

  async function publish(channel: string, ...messages: { name: string; data?: unknown }[]): Promise<void> {
    await rest(ts, 'json').channels.get(channel).publish(messages);
  }

  it('streams each message as an SSE event with the channel in its envelope and a resumable id', async () => {
    const r = await stream(`channels=sse-basic&v=1.2&key=${K}`);
    assert.equal(r.status, 200);
    assert.match(String(r.res.headers['content-type']), /^text\/event-stream/);
    assert.equal(r.res.headers['x-accel-buffering'], 'no');
    assert.match(String(r.res.headers['cache-control']), /no-transform/);
    await r.until(() => r.lastEventId !== '', 'the initial position');
    await publish('sse-basic', { name: 'one', data: 'a' });
    await publish('sse-basic', { name: 'two', data: { n: 2 } });
    const events = await r.eventsNamed('message', 2);
    const [one, two] = events.map((e) => envelope(e.data));
    assert.deepEqual([one!.name, one!.data, one!.channel], ['one', 'a', 'sse-basic']);
    assert.equal(two!.name, 'two');
    assert.equal(events[1]!.lastEventId, two!.serial, 'a one-channel id is the message serial');
    assert.notEqual(events[0]!.lastEventId, events[1]!.lastEventId);
  });

  it('enveloped=false gives the payload only, one data line per line of text', async () => {
    const r = await stream(`channel=sse-bare&v=1.2&enveloped=false&key=${K}`);
    await r.until(() => r.lastEventId !== '', 'the initial position');
    await publish('sse-bare', { name: 'x', data: 'line 1\nline 2' });
    const [e] = await r.eventsNamed('message', 1);
    assert.equal(e!.data, 'line 1\nline 2');
  });

  it('subscribes to several channels, split by a custom separator', async () => {
    const r = await stream(
      `channels=${encodeURIComponent('sse,a|sse,b')}&separator=${encodeURIComponent('|')}&v=1.2&key=${K}`,
    );
    await r.until(() => r.lastEventId !== '', 'the initial position');
    assert.equal(r.lastEventId.split('~').length, 2, 'one position per channel');
    await publish('sse,a', { name: 'in-a' });
    await publish('sse,b', { name: 'in-b' });
    const events = await r.eventsNamed('message', 2);
    assert.deepEqual(
      events.map((e) => envelope(e.data).channel),
      ['sse,a', 'sse,b'],
    );
  });

  for (const how of ['lastEvent param', 'Last-Event-ID header']) {
    it(`resumes with the ${how}: every message once, in order`, async () => {
      const channel = `sse-resume-${how.split(' ')[0]}`;
      const first = await stream(`channels=${channel}&v=1.2&key=${K}`);
      await first.until(() => first.lastEventId !== '', 'the initial position');
      await publish(channel, { name: 'm1' });
      await publish(channel, { name: 'm2' });
      await first.eventsNamed('message', 2);
      first.cut();
      await publish(channel, { name: 'm3' });
      await publish(channel, { name: 'm4' }, { name: 'm5' });
      const id = first.lastEventId;
      const second =
        how === 'lastEvent param'
          ? await stream(`channels=${channel}&v=1.2&key=${K}&lastEvent=${encodeURIComponent(id)}`)
          : await stream(`channels=${channel}&v=1.2&key=${K}`, { 'Last-Event-ID': id });
      await publish(channel, { name: 'm6' });
      assert.deepEqual(names(await second.eventsNamed('message', 4)), ['m3', 'm4', 'm5', 'm6']);
    });
  }

  it('resumes from inside one publish of several messages without repeating any', async () => {
    const channel = 'sse-mid-event';
    const first = await stream(`channels=${channel}&v=1.2&key=${K}`);
    await first.until(() => first.lastEventId !== '', 'the initial position');
    await publish(channel, { name: 'a' }, { name: 'b' }, { name: 'c' });
    const events = await first.eventsNamed('message', 3);
    first.cut();
    // As if the stream had been cut after the first item of the three.
    const second = await stream(
      `channels=${channel}&v=1.2&key=${K}&lastEvent=${encodeURIComponent(events[0]!.lastEventId)}`,
    );
    await publish(channel, { name: 'd' });
    assert.deepEqual(names(await second.eventsNamed('message', 3)), ['b', 'c', 'd']);
  });

  it('rewind sends a backlog on a new stream, and is ignored when resuming', async () => {
    const channel = 'sse-rewind';
    await publish(channel, { name: 'r1' });
    await publish(channel, { name: 'r2' });
    await publish(channel, { name: 'r3' });
    const r = await stream(`channels=${channel}&v=1.2&rewind=2&key=${K}`);
    assert.deepEqual(names(await r.eventsNamed('message', 2)), ['r2', 'r3']);
    const resumed = await stream(
      `channels=${channel}&v=1.2&rewind=2&key=${K}&lastEvent=${encodeURIComponent(r.lastEventId)}`,
    );
    await publish(channel, { name: 'r4' });
    assert.deepEqual(names(await resumed.eventsNamed('message', 1)), ['r4']);
  });

  it('streams presence events', async () => {
    const r = await stream(`channels=sse-presence&v=1.2&key=${K}`);
    await r.until(() => r.lastEventId !== '', 'the initial position');
    const client = await connect(
      realtime(ts, { name: 'ws', transport: 'web_socket', format: 'json' }, { clientId: 'pat' }),
    );
    await client.channels.get('sse-presence').presence.enter('hi');
    const [e] = await r.eventsNamed('presence', 1);
    const p = envelope(e!.data);
    assert.deepEqual([p.clientId, p.data, p.channel, p.action], ['pat', 'hi', 'sse-presence', 2]);
    await closeAll(client);
  });

  it('/event-stream: one JSON object per line, ids on messages; SSE when Accept asks for it', async () => {
    const r = await stream(`channels=es-json&v=1.2&key=${K}`, {}, '/event-stream', 'json');
    assert.match(String(r.res.headers['content-type']), /^application\/json/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await publish('es-json', { name: 'j1', data: 'x' });
    await r.until(() => r.lines.length >= 1, 'a line');
    const line = r.lines[0];
    assert.ok(isPlainObject(line) && isEnvelope(line.data), `an event line: ${JSON.stringify(line)}`);
    assert.equal(line.event, 'message');
    assert.equal(line.data.name, 'j1');
    assert.equal(line.id, line.data.serial);
    const sse = await stream(`channels=es-json&v=1.2&key=${K}`, { Accept: 'text/event-stream' }, '/event-stream');
    assert.match(String(sse.res.headers['content-type']), /^text\/event-stream/);
  });

  const bad: [string, string, number, number][] = [
    ['no v', `channels=x&key=${K}`, 400, 40000],
    ['an unknown v', `channels=x&v=banana&key=${K}`, 400, 40017],
    ['no channels', `v=1.2&key=${K}`, 400, 40000],
    ['an empty channel name', `channels=a,,b&v=1.2&key=${K}`, 400, 40010],
    ['an empty separator', `channels=a&separator=&v=1.2&key=${K}`, 400, 40003],
    ['no credentials', `channels=x&v=1.2`, 401, 40101],
    ['a wrong key secret', `channels=x&v=1.2&key=${encodeURIComponent('testapp.full:wrong')}`, 401, 40101],
    [
      'a channel outside the capability',
      `channels=elsewhere&v=1.2&key=${encodeURIComponent(KEYS.limited)}`,
      401,
      40160,
    ],
    ['a lastEvent for another channel count', `channels=a,b&v=1.2&key=${K}&lastEvent=abc-00000000001`, 400, 40003],
    [
      'a lastEvent that is not an id',
      `channels=a&v=1.2&key=${K}&lastEvent=${encodeURIComponent('<script>')}`,
      400,
      40003,
    ],
    ['enveloped=maybe', `channels=a&v=1.2&enveloped=maybe&key=${K}`, 400, 40003],
    ['heartbeats=1', `channels=a&v=1.2&heartbeats=1&key=${K}`, 400, 40003],
    ['rewind=lots', `channels=a&v=1.2&rewind=lots&key=${K}`, 400, 40003],
    ['an invalid channel name', `channels=${encodeURIComponent('[bad')}&v=1.2&key=${K}`, 400, 40010],
  ];
  for (const [what, query, status, code] of bad) {
    it(`refuses ${what} with a plain HTTP error ${code}`, async () => {
      const r = await stream(query);
      assert.equal(r.status, status);
      assert.equal(jsonError(await r.body()).code, code);
    });
  }

  it('still serves after every bad request', async () => {
    const r = await stream(`channels=sse-after&v=1.2&key=${K}`);
    await r.until(() => r.lastEventId !== '', 'the initial position');
    await publish('sse-after', { name: 'fine' });
    assert.deepEqual(names(await r.eventsNamed('message', 1)), ['fine']);
    assert.equal(ts.server.inspect.connections >= 1, true);
  });
});

describe('SSE API: keepalives, heartbeats and the end of a stream', () => {
  let ts: TestServer;
  let base: string;
  before(async () => {
    ts = await startServer({ maxIdleInterval: 600 });
    base = `http://127.0.0.1:${ts.port}`;
  });
  after(() => ts.close());

  it('keeps an idle stream alive with :keepalive comments, or heartbeat events when asked', async () => {
    const plain = await EventStreamReader.open(`${base}/sse?channels=idle&v=1.2&key=${K}`);
    const beats = await EventStreamReader.open(`${base}/sse?channels=idle&v=1.2&heartbeats=true&key=${K}`);
    const json = await EventStreamReader.open(`${base}/event-stream?channels=idle&v=1.2&key=${K}`, {}, 'json');
    await plain.until(() => plain.comments.includes('keepalive'), 'a keepalive comment');
    await beats.until(() => beats.events.some((e) => e.event === 'heartbeat'), 'a heartbeat event');
    await json.until(() => json.keepalives > 0, 'an empty line');
    for (const r of [plain, beats, json]) r.cut();
  });

  async function sessionsBecome(n: number): Promise<void> {
    const deadline = Date.now() + 3000;
    while (ts.server.inspect.connections !== n && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 20));
    assert.equal(ts.server.inspect.connections, n);
  }

  it('the session of a stream goes when the client goes', async () => {
    await sessionsBecome(0);
    const r = await EventStreamReader.open(`${base}/sse?channels=gone&v=1.2&key=${K}`);
    await r.until(() => r.lastEventId !== '', 'the initial position');
    assert.equal(ts.server.inspect.connections, 1);
    r.cut();
    await sessionsBecome(0);
  });
});

describe('SSE API: token expiry (fake clock)', () => {
  let ts: TestServer;
  let clock: FakeClock;
  before(async () => {
    clock = new FakeClock(Date.now());
    ts = await startServer({ clock, maxIdleInterval: 120_000 });
  });
  after(() => ts.close());

  it('sends the documented error event (40142) and ends the stream', async () => {
    const params: TokenParams = { ttl: 5000 };
    const token = ts.server.tokens.issue(ts.server.apps.findKey('testapp.full')!, params).token;
    const r = await EventStreamReader.open(
      `http://127.0.0.1:${ts.port}/sse?channels=t&v=1.2&accessToken=${encodeURIComponent(token)}`,
    );
    await r.until(() => r.lastEventId !== '', 'the initial position');
    clock.advance(5001);
    const [e] = await r.eventsNamed('error', 1);
    const err = jsonAs(e!.data, isErrorFields, 'an ErrorInfo');
    assert.deepEqual([err.code, err.statusCode], [40142, 401]);
    await r.waitEnd();
  });
});
