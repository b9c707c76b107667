/**
 * Finding 2 of issue 12: msgpack made of array headers that announce 65,535 elements (`dc ff ff`)
 * must cost nothing to refuse, wherever the decoder serves: the token endpoint without credentials
 * (the reproduction), REST bodies, sandbox `POST /apps`, WebSocket frames and comet sends. Each is
 * refused with 40000 and the process neither grows nor dies; 16,000 headers (48 KB, within the
 * token endpoint's body limit) would ask the old decoder for a billion array slots.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Action, Err, type ErrorDef } from '@encke/protocol';
import { RawClient } from '../helpers/raw-ws.js';
import { RawCometClient, MSGPACK_TYPE } from '../helpers/raw-comet.js';
import { KEYS, startServer, type TestServer } from '../helpers/server.js';
import { responseObject, bodyErrorIfAny, bodyError } from '../helpers/json.js';

/** `dc ff ff` repeated: each header announces a 65,535-element array. */
const bomb = (headers: number): Buffer =>
  Buffer.concat(Array.from({ length: headers }, () => Buffer.from([0xdc, 0xff, 0xff])));
/** A map header announcing 4 billion entries, then nothing. */
const MAP_BOMB = Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff]);
/** A str32 header announcing 4 GB. */
const STRING_BOMB = Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]);
const MB = 1024 * 1024;
/** What the whole file may add to this process's RSS (the old decoder needed gigabytes). */
const RSS_GROWTH_LIMIT = 128 * MB;

const basic = (key: string): string => `Basic ${Buffer.from(key).toString('base64')}`;

interface Case {
  name: string;
  path: string;
  body: Buffer;
  key?: string;
  /** 40000 (malformed, too deep) unless a size bound is named: 40009. */
  expect?: ErrorDef;
}

const REST_CASES: Case[] = [
  {
    name: 'requestToken of an unknown key, no credentials, 1,200 headers (the reproduction)',
    path: '/keys/no.such/requestToken',
    body: bomb(1200),
  },
  {
    name: 'requestToken of an unknown key, no credentials, 16,000 headers',
    path: '/keys/no.such/requestToken',
    body: bomb(16_000),
  },
  { name: 'requestToken of a real key, no credentials', path: '/keys/testapp.full/requestToken', body: bomb(16_000) },
  {
    name: 'requestToken, a map of 4 billion entries',
    path: '/keys/testapp.full/requestToken',
    body: MAP_BOMB,
    expect: Err.maxMessageSizeExceeded,
  },
  {
    name: 'requestToken, a 4 GB string',
    path: '/keys/testapp.full/requestToken',
    body: STRING_BOMB,
    expect: Err.maxMessageSizeExceeded,
  },
  { name: 'REST publish with a key', path: '/channels/bombed/messages', body: bomb(60_000), key: KEYS.full },
  { name: 'REST batch publish with a key', path: '/messages', body: bomb(60_000), key: KEYS.full },
  { name: 'sandbox POST /apps', path: '/apps', body: bomb(20_000) },
];

describe('msgpack pre-allocation bombs (issue 12, finding 2)', () => {
  let ts: TestServer;
  let watcher: RawClient;
  let startRss = 0;
  let sent = 0;

  async function stillServing(): Promise<void> {
    const data = `ok-${++sent}`;
    const res = await fetch(`http://127.0.0.1:${ts.port}/channels/watched/messages`, {
      method: 'POST',
      headers: { authorization: basic(KEYS.full), 'content-type': 'application/json' },
      body: JSON.stringify({ data }),
    });
    assert.equal(res.status, 201);
    await watcher.next(Action.MESSAGE, 5000, (pm) => pm.messages?.some((m) => m.data === data) ?? false);
    assert.ok(
      process.memoryUsage().rss - startRss < RSS_GROWTH_LIMIT,
      `RSS grew by ${((process.memoryUsage().rss - startRss) / MB).toFixed(0)} MB`,
    );
  }

  before(async () => {
    ts = await startServer({ sandbox: true });
    watcher = await RawClient.connect(ts.port, KEYS.full, 'msgpack');
    watcher.send({ action: Action.ATTACH, channel: 'watched' });
    await watcher.next(Action.ATTACHED);
    startRss = process.memoryUsage().rss;
  });
  after(async () => {
    watcher.close();
    await ts.close();
  });

  for (const c of REST_CASES) {
    const expect = c.expect ?? Err.badRequest;
    it(`${c.name}: 400 ${expect.code}`, async () => {
      const headers: Record<string, string> = { 'content-type': MSGPACK_TYPE };
      if (c.key) headers.authorization = basic(c.key);
      const res = await fetch(`http://127.0.0.1:${ts.port}${c.path}`, { method: 'POST', headers, body: c.body });
      const reply = await responseObject(res);
      assert.equal(res.status, 400, JSON.stringify(reply));
      assert.equal(bodyErrorIfAny(reply)?.code, expect.code);
      await stillServing();
    });
  }

  it('a WebSocket msgpack frame of 100,000 headers fails only its own connection (40000)', async () => {
    const client = await RawClient.connect(ts.port, KEYS.full, 'msgpack');
    client.sendRaw(bomb(100_000), true);
    const error = await client.next(Action.ERROR);
    assert.equal(error.error?.code, Err.badRequest.code);
    await client.waitClosed();
    await stillServing();
  });

  it('a comet msgpack send of 100,000 headers fails only its own connection (40000)', async () => {
    const client = await RawCometClient.connect(ts.port, { format: 'msgpack' });
    const res = await client.request('send', {
      method: 'POST',
      body: bomb(100_000),
      headers: { 'content-type': MSGPACK_TYPE },
    });
    assert.equal(res.status, 400);
    assert.equal(bodyError(res.body).code, Err.badRequest.code);
    await client.waitClosed();
    client.drop();
    await stillServing();
  });
});
