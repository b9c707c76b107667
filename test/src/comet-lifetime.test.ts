/**
 * The comet transport's longer lives: streams recycled after maxCometStreamDuration with nothing
 * lost, resume with the SDK after a recv is cut (streaming and polling), and a connection served on
 * its token until the token expires. The rest of the comet transport is in comet.test.ts.
 */
import { dataOf } from './helpers/field.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Action, Err, isPlainObject, parseJson } from '@encke/protocol';
import { Collector, closeAll, connect, connectionState, eventually, realtime, type Variant } from './helpers/ably.js';
import { makeJwt } from './helpers/auth.js';
import { messageData, publishAcked } from './helpers/comet-messages.js';
import { KillableProxy } from './helpers/proxy.js';
import { cometRequest, RawCometClient } from './helpers/raw-comet.js';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';
import { bodyError } from './helpers/json.js';

describe('comet stream recycling', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer({ maxIdleInterval: 300, maxCometStreamDuration: 150 });
  });
  after(async () => {
    await ts.close();
  });

  it('ends a stream after maxCometStreamDuration; nothing is lost across recvs', async () => {
    const sub = await RawCometClient.connect(ts.port, { stream: true });
    const pub = await RawClient.connect(ts.port, KEYS.full);
    try {
      await sub.send([{ action: Action.ATTACH, channel: 'recycle' }]);
      await sub.next(Action.ATTACHED);
      let n = 0;
      while (sub.recvCount < 4) await publishAcked(pub, 'recycle', n, String(n++));
      await eventually(() => messageData(sub.log).length === n, 3000, 'all messages received');
      assert.deepEqual(
        messageData(sub.log),
        Array.from({ length: n }, (_, i) => String(i)),
      );
    } finally {
      pub.close();
      await sub.close();
    }
  });
});

describe('comet resume with the SDK', () => {
  const variants: Variant[] = [
    { name: 'streaming', transport: 'comet', format: 'json' },
    { name: 'polling', transport: 'comet', format: 'json', transportParams: { stream: false } },
  ];
  for (const variant of variants) {
    it(`resumes after its recv is cut mid-stream and gets every message (${variant.name})`, async () => {
      const ts = await startServer({ maxIdleInterval: 600 });
      const proxy = await KillableProxy.start(ts.port);
      const client = realtime({ ...ts, port: proxy.port }, variant);
      const publisher = await connect(realtime(ts, { name: 'websocket', transport: 'web_socket', format: 'json' }));
      try {
        await connect(client);
        const id = client.connection.id;
        const got = new Collector();
        const channel = client.channels.get('resume');
        await channel.subscribe(got.listener);
        const pubChannel = publisher.channels.get('resume');
        for (let i = 0; i < 5; i++) await pubChannel.publish('n', String(i));
        await got.waitFor(5);
        proxy.killAll();
        await connectionState(client, 'disconnected');
        for (let i = 5; i < 10; i++) await pubChannel.publish('n', String(i));
        await connectionState(client, 'connected');
        for (let i = 10; i < 15; i++) await pubChannel.publish('n', String(i));
        await got.waitFor(15);
        assert.equal(client.connection.id, id, 'same connection after the resume');
        assert.deepEqual(
          got.items.map((m) => dataOf(m)),
          Array.from({ length: 15 }, (_, i) => String(i)),
        );
      } finally {
        await closeAll(client, publisher);
        await proxy.close();
        await ts.close();
      }
    });
  }
});

describe('comet with tokens', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer({ maxIdleInterval: 300 });
  });
  after(async () => {
    await ts.close();
  });

  it('serves a connection on its token until the token expires, then refuses it (40142)', async () => {
    const token = makeJwt(KEYS.full, { ttl: 2000 });
    const auth = `access_token=${encodeURIComponent(token)}`;
    const res = await cometRequest(ts.port, `/comet/connect?${auth}&heartbeats=true&v=6&stream=false`);
    const key = res.batches[0]![0]!.connectionDetails!.connectionKey!;
    // Requests repeating the connection's own token are served...
    for (let i = 0; i < 3; i++) assert.equal((await cometRequest(ts.port, `/comet/${key}/recv?${auth}`)).status, 200);
    // ...but not once it has expired: neither the connection nor a remembered verification outlives it.
    const claims = parseJson(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    assert.ok(isPlainObject(claims) && typeof claims.exp === 'number');
    const expires = claims.exp * 1000;
    await new Promise((resolve) => setTimeout(resolve, expires - Date.now() + 50));
    const late = await cometRequest(ts.port, `/comet/${key}/recv?${auth}`);
    assert.equal(late.status, 401);
    assert.equal(bodyError(late.body).code, Err.tokenExpired.code);
  });
});
