/**
 * The comet transport beyond the SDK scenario table: queueing between recvs, stream and polling
 * mode details, heartbeats, superseded recvs, resume across transports, msgpack bodies, GET sends,
 * headers, cookies and CORS. Stream recycling, resume with the SDK and token expiry are in
 * comet-lifetime.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Action, Err } from '@encke/protocol';
import { eventually } from './helpers/ably.js';
import { messageData, publishAcked } from './helpers/comet-messages.js';
import { cometRequest, JSON_TYPE, MSGPACK_TYPE, RawCometClient } from './helpers/raw-comet.js';
import { RawClient } from './helpers/raw-ws.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';
import { bodyError } from './helpers/json.js';

const FULL = `key=${encodeURIComponent(KEYS.full)}`;

describe('comet', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer({ maxIdleInterval: 300 });
  });
  after(async () => {
    await ts.close();
  });

  it('connect answers CONNECTED with the node cookie and no-store headers', async () => {
    const res = await cometRequest(ts.port, `/comet/connect?${FULL}&heartbeats=true&v=6&stream=false`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], JSON_TYPE);
    assert.equal(res.headers['cache-control'], 'no-store, no-transform');
    assert.equal(res.headers['x-accel-buffering'], 'no');
    assert.match(
      String(res.headers['set-cookie']),
      new RegExp(`^encke_server=${ts.server.options.serverId}; Path=/; HttpOnly`),
    );
    const [connected] = res.batches.flat();
    assert.equal(connected?.action, Action.CONNECTED);
    assert.equal(ts.server.inspect.cometKeys, 1);
    const key = connected.connectionDetails!.connectionKey!;
    await cometRequest(ts.port, `/comet/${key}/close?${FULL}`);
    await eventually(
      () => ts.server.inspect.connections === 0 && ts.server.inspect.cometKeys === 0,
      2000,
      'connection closed',
    );
  });

  it('answers credentialed CORS on comet requests and preflights', async () => {
    const origin = 'https://app.example';
    const res = await cometRequest(ts.port, `/comet/connect?${FULL}&stream=false`, { headers: { origin } });
    assert.equal(res.headers['access-control-allow-origin'], origin);
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    assert.match(String(res.headers['access-control-expose-headers']), /Link.*X-Ably-ErrorCode.*X-Ably-ErrorMessage/);
    const key = res.batches[0]![0]!.connectionDetails!.connectionKey!;
    const preflight = await cometRequest(ts.port, `/comet/${key}/send`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], origin);
    assert.match(String(preflight.headers['access-control-allow-methods']), /POST/);
    await cometRequest(ts.port, `/comet/${key}/close?${FULL}`);
  });

  it('authenticates every request by Authorization header too', async () => {
    const basic = { authorization: `Basic ${Buffer.from(KEYS.full).toString('base64')}` };
    const res = await cometRequest(ts.port, '/comet/connect?stream=false', { headers: basic });
    const key = res.batches[0]![0]!.connectionDetails!.connectionKey!;
    const sent = await cometRequest(ts.port, `/comet/${key}/send`, {
      method: 'POST',
      headers: { ...basic, 'content-type': JSON_TYPE },
      body: JSON.stringify([{ action: Action.HEARTBEAT, id: 'h' }]),
    });
    assert.equal(sent.status, 204);
    const recv = await cometRequest(ts.port, `/comet/${key}/recv`, { headers: basic });
    assert.deepEqual(recv.batches, [[{ action: Action.HEARTBEAT, id: 'h' }]]);
    await cometRequest(ts.port, `/comet/${key}/close`, { headers: basic });
  });

  for (const format of ['json', 'msgpack'] as const) {
    const cycles = format === 'json' ? 1000 : 200;
    it(`delivers frames queued between two recvs together and in order over ${cycles} cycles (${format}, polling)`, async () => {
      // A server of its own with the default idle interval: on a loaded machine the suite's
      // 300 ms one can drop the publisher between two of its thousand round trips.
      const own = await startServer();
      const sub = await RawCometClient.connect(own.port, { format, stream: false, autoRecv: false });
      const pub = await RawClient.connect(own.port, KEYS.full);
      try {
        await sub.send([{ action: Action.ATTACH, channel: 'queue' }]);
        await sub.recv();
        await sub.next(Action.ATTACHED);
        let sent = 0;
        const seen: string[] = [];
        for (let cycle = 0; cycle < cycles; cycle++) {
          // Separate publishes (each ACKed before the next) go out as separate MESSAGE frames.
          // Multi-byte characters: Content-Length counts bytes, not characters.
          const perCycle = 1 + (cycle % 3);
          for (let i = 0; i < perCycle; i++) await publishAcked(pub, 'queue', sent, `${sent++}·é😀`);
          const res = await sub.recv();
          assert.equal(res.status, 200);
          assert.equal(res.batches.length, 1, 'one array per poll');
          const batch = res.batches[0]!;
          assert.equal(batch.length, perCycle, `cycle ${cycle}: all queued frames in one response`);
          seen.push(...messageData(batch));
        }
        assert.deepEqual(
          seen,
          Array.from({ length: sent }, (_, i) => `${i}·é😀`),
        );
      } finally {
        pub.close();
        await sub.close();
        await own.close();
      }
    });
  }

  for (const format of ['json', 'msgpack'] as const) {
    it(`answers a poll with every frame written since the last one, in one array (${format}, 20 frames)`, async () => {
      const client = await RawCometClient.connect(ts.port, { format, stream: false, autoRecv: false });
      try {
        const ids = Array.from({ length: 20 }, (_, i) => `p${i}`);
        await client.send(ids.map((id) => ({ action: Action.HEARTBEAT, id })));
        const res = await client.recv();
        assert.equal(res.headers['content-type'], format === 'json' ? JSON_TYPE : MSGPACK_TYPE);
        assert.deepEqual(res.batches, [ids.map((id) => ({ action: Action.HEARTBEAT, id }))]);
      } finally {
        await client.close();
      }
    });
  }

  it('streams several arrays, one per line, on one held recv', async () => {
    const sub = await RawCometClient.connect(ts.port, { stream: true, autoRecv: true });
    const pub = await RawClient.connect(ts.port, KEYS.full);
    try {
      await sub.send([{ action: Action.ATTACH, channel: 'stream' }]);
      await sub.next(Action.ATTACHED);
      for (let i = 0; i < 5; i++) await publishAcked(pub, 'stream', i, `s${i}`);
      for (let i = 0; i < 5; i++) assert.deepEqual(messageData([await sub.next(Action.MESSAGE)]), [`s${i}`]);
      assert.equal(sub.recvCount, 1, 'everything came down the connect response');
    } finally {
      pub.close();
      await sub.close();
    }
  });

  it('streams msgpack as concatenated msgpack arrays and accepts msgpack sends', async () => {
    const sub = await RawCometClient.connect(ts.port, { format: 'msgpack', stream: true });
    try {
      await sub.send([{ action: Action.ATTACH, channel: 'binary' }]);
      await sub.next(Action.ATTACHED);
      await sub.send([
        {
          action: Action.MESSAGE,
          channel: 'binary',
          msgSerial: 0,
          messages: [{ name: 'b', data: new Uint8Array([1, 2, 3]) }],
        },
      ]);
      assert.equal((await sub.next(Action.ACK)).msgSerial, 0);
      await eventually(() => sub.log.some((pm) => pm.action === Action.MESSAGE), 2000, 'MESSAGE received');
      const msg = sub.log.find((pm) => pm.action === Action.MESSAGE)!;
      assert.ok(msg.messages![0]!.data instanceof Uint8Array, 'binary data comes back as msgpack bin');
      assert.deepEqual([...(msg.messages![0]!.data as Uint8Array)], [1, 2, 3]);
    } finally {
      await sub.close();
    }
  });

  it('takes a send as GET with the messages in the body query parameter', async () => {
    const client = await RawCometClient.connect(ts.port);
    try {
      const res = await client.send(
        [{ action: Action.MESSAGE, channel: 'get-send', msgSerial: 0, messages: [{ data: 'via GET' }] }],
        'GET',
      );
      assert.equal(res.status, 204);
      assert.equal((await client.next(Action.ACK)).msgSerial, 0);
    } finally {
      await client.close();
    }
  });

  it('answers a send with 204 and sends the replies down the recv', async () => {
    const client = await RawCometClient.connect(ts.port);
    try {
      const res = await client.send([
        { action: Action.ATTACH, channel: 'replies' },
        { action: Action.MESSAGE, channel: 'replies', msgSerial: 0, messages: [{ data: 'a' }] },
        { action: Action.HEARTBEAT, id: 'after' },
      ]);
      assert.equal(res.status, 204);
      assert.deepEqual(res.batches, []);
      await client.next(Action.HEARTBEAT, 5000, (pm) => pm.id === 'after');
      await eventually(() => client.log.some((pm) => pm.action === Action.MESSAGE), 2000, 'MESSAGE received');
      const actions = client.log.map((pm) => pm.action).filter((a) => a !== Action.HEARTBEAT);
      assert.deepEqual(actions.slice(0, 2), [Action.CONNECTED, Action.ATTACHED]);
      assert.deepEqual(actions.slice(2).sort(), [Action.ACK, Action.MESSAGE].sort());
      // The session answers in order: the ping sent after the publish is answered after its ACK.
      const ack = client.log.findIndex((pm) => pm.action === Action.ACK);
      const ping = client.log.findIndex((pm) => pm.action === Action.HEARTBEAT && pm.id === 'after');
      assert.ok(ack < ping);
    } finally {
      await client.close();
    }
  });

  it('answers an idle poll with a HEARTBEAT and writes HEARTBEAT lines to an idle stream', async () => {
    const poller = await RawCometClient.connect(ts.port, { stream: false, autoRecv: false });
    const streamer = await RawCometClient.connect(ts.port, { stream: true });
    try {
      const res = await poller.recv();
      assert.deepEqual(res.batches, [[{ action: Action.HEARTBEAT }]]);
      await streamer.next(Action.HEARTBEAT, 2000);
      await streamer.next(Action.HEARTBEAT, 2000);
      assert.equal(streamer.recvCount, 1);
    } finally {
      await poller.close();
      await streamer.close();
    }
  });

  it('ends an older recv cleanly with an empty array when a newer one arrives', async () => {
    const client = await RawCometClient.connect(ts.port, { stream: false, autoRecv: false });
    try {
      const older = client.recv();
      await eventually(
        () => ts.server.inspect.connection(client.connectionId)?.cometRecvHeld === true,
        2000,
        'older recv held',
      );
      const newer = client.recv();
      const first = await older;
      assert.equal(first.status, 200);
      assert.deepEqual(first.batches, [[]]);
      await client.send([{ action: Action.HEARTBEAT, id: 'to-newer' }]);
      assert.deepEqual((await newer).batches, [[{ action: Action.HEARTBEAT, id: 'to-newer' }]]);
    } finally {
      await client.close();
    }
  });

  it('ends a pending recv with ERROR when the server fails the connection', async () => {
    const client = await RawCometClient.connect(ts.port, { stream: true });
    const sent = await client.send([{ action: Action.ACK, msgSerial: 0, count: 1 }]);
    assert.equal(sent.status, 204);
    await client.waitClosed();
    const err = client.log.find((pm) => pm.action === Action.ERROR);
    assert.equal(err?.error?.code, Err.protocolError.code);
    const again = await client.request('recv');
    assert.equal(bodyError(again.body).code, Err.connectionNotFound.code);
    await eventually(
      () => ts.server.inspect.connections === 0 && ts.server.inspect.cometKeys === 0,
      2000,
      'connection gone',
    );
  });

  it('keeps a final ERROR for the next recv when none is pending', async () => {
    const client = await RawCometClient.connect(ts.port, { stream: false, autoRecv: false });
    await client.send([{ action: 99 }]);
    const res = await client.recv();
    assert.equal(res.status, Err.protocolError.statusCode);
    assert.equal(res.headers['x-ably-errorcode'], String(Err.protocolError.code));
    assert.equal(res.batches[0]![0]!.action, Action.ERROR);
    assert.equal(res.batches[0]![0]!.error?.code, Err.protocolError.code);
    await eventually(
      () => ts.server.inspect.connections === 0 && ts.server.inspect.cometKeys === 0,
      2000,
      'connection gone',
    );
  });

  it('close discards the state even when the transport is already gone (ably-js aborts its recv as it closes)', async () => {
    const client = await RawCometClient.connect(ts.port, { stream: false, autoRecv: false });
    await eventually(
      () => ts.server.inspect.connection(client.connectionId)?.state === 'disconnected',
      3000,
      'transport gone',
    );
    const res = await client.request('close');
    assert.equal(res.status, 204);
    await eventually(
      () => ts.server.inspect.connections === 0 && ts.server.inspect.cometKeys === 0,
      2000,
      'state discarded',
    );
    client.drop();
  });

  it('drops a connection that stops fetching, and keeps it resumable', async () => {
    const client = await RawCometClient.connect(ts.port, { stream: false, autoRecv: false });
    await eventually(
      () => ts.server.inspect.connection(client.connectionId)?.state === 'disconnected',
      3000,
      'transport gone',
    );
    const stale = await client.request('recv');
    assert.equal(bodyError(stale.body).code, Err.connectionNotFound.code);
    const resumed = await RawCometClient.connect(ts.port, { query: `&resume=${client.connectionKey}` });
    const connected = resumed.log[0]!;
    assert.equal(connected.connectionId, client.connectionId);
    assert.equal(connected.error, undefined);
    client.drop();
    await resumed.close();
  });

  it('disconnect keeps the state; close discards it', async () => {
    const client = await RawCometClient.connect(ts.port, { stream: true });
    const res = await client.request('disconnect');
    assert.equal(res.status, 204);
    await eventually(() => ts.server.inspect.connection(client.connectionId)?.state === 'disconnected', 2000);
    client.drop();
    const resumed = await RawCometClient.connect(ts.port, { query: `&resume=${client.connectionKey}` });
    assert.equal(resumed.connectionId, client.connectionId);
    await resumed.close();
    await resumed.next(Action.CLOSED);
    await eventually(
      () => ts.server.inspect.connections === 0 && ts.server.inspect.cometKeys === 0,
      2000,
      'connection gone',
    );
  });

  it('resumes a WebSocket connection over comet, and a comet connection over WebSocket', async () => {
    const ws = await RawClient.connect(ts.port, KEYS.full);
    const wsConnected = ws.log[0]!;
    ws.drop();
    await eventually(() => ts.server.inspect.connection(wsConnected.connectionId!)?.state === 'disconnected', 2000);
    const comet = await RawCometClient.connect(ts.port, {
      query: `&resume=${wsConnected.connectionDetails!.connectionKey}`,
    });
    assert.equal(comet.connectionId, wsConnected.connectionId);
    assert.equal(comet.log[0]!.error, undefined);

    const back = await RawClient.connect(ts.port, KEYS.full, 'json', `&resume=${comet.connectionKey}`);
    assert.equal(back.log[0]!.connectionId, comet.connectionId);
    // The comet transport is superseded: its recv is told so, and its key no longer works.
    const superseded = await comet.next(Action.DISCONNECTED);
    assert.equal(superseded.error?.code, Err.superseded.code);
    const stale = await comet.request('send', { method: 'POST', body: '[]', headers: { 'content-type': JSON_TYPE } });
    assert.equal(bodyError(stale.body).code, Err.connectionNotFound.code);
    back.close();
    comet.drop();
    await eventually(
      () => ts.server.inspect.connections === 0 && ts.server.inspect.cometKeys === 0,
      2000,
      'connection gone',
    );
  });

  it('tells a streaming recv DISCONNECTED when the server drains', async () => {
    const draining = await startServer({ maxIdleInterval: 300 });
    const client = await RawCometClient.connect(draining.port);
    const drained = draining.server.drain(2000);
    const msg = await client.next(Action.DISCONNECTED);
    assert.equal(msg.error?.code, Err.disconnected.code);
    client.drop();
    await drained;
    await draining.close();
  });
});
