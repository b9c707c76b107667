/**
 * What the transport specifications say a client library must do, one test each: remote close
 * codes, refusal without a handshake, in-band ERROR then close, recv errors as the failure reason,
 * non-fatal errors in CONNECTED, at most one send and one recv pending, disconnect versus close,
 * TLS and TLS-only apps.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import { Realtime, type ConnectionStateChange } from '@encke/client';
import { kit } from '@encke/client/internal/kit';
import { closeOutcome } from '@encke/client/internal/transports/close-codes';
import { Action } from '@encke/protocol';
import { CLIENT_VARIANTS, closeClients, enckeClient, reach, serverHas } from '../helpers/encke-client.js';
import { KEYS, startServer, TEST_APPS, type TestServer } from '../helpers/server.js';
import { makeTestCert, trustAnyCertificate, type TestCert } from '../helpers/tls.js';
import { eventually } from '../helpers/ably.js';

const CONNECTED = JSON.stringify({
  action: Action.CONNECTED,
  connectionId: 'rawconn00001',
  connectionDetails: {
    connectionKey: 'rawconn00001!k',
    maxIdleInterval: 15000,
    connectionStateTtl: 120000,
    maxMessageSize: 65536,
    maxFrameSize: 524288,
    maxInboundRate: 50,
    serverId: 'raw',
  },
});

/** A WebSocket server that does what `onSocket` says with each connection. */
async function rawWsServer(onSocket: (ws: WsSocket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', onSocket);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    port: (http.address() as AddressInfo).port,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function rawClient(port: number): Realtime {
  return new Realtime({
    key: KEYS.full,
    endpoint: '127.0.0.1',
    port,
    tls: false,
    transports: ['web_socket'],
    disconnectedRetryTimeout: 60_000,
    logLevel: 0,
  });
}

/** The first change to disconnected, suspended or failed. */
function firstLoss(c: Realtime): Promise<ConnectionStateChange> {
  return c.connection.once(['disconnected', 'suspended', 'failed']);
}

describe('WebSocket close codes (RFC 6455 §7.4.1) mapped as the Ably WebSocket spec says', () => {
  // 1005 is what a close without a code reads as; 1006 is an abrupt end (no close frame).
  const TABLE: { code: number | 'none' | 'abrupt'; state: 'disconnected' | 'failed'; errorCode: number }[] = [
    { code: 1000, state: 'disconnected', errorCode: 80003 },
    { code: 1001, state: 'disconnected', errorCode: 80003 },
    { code: 1002, state: 'failed', errorCode: 80000 },
    { code: 1003, state: 'failed', errorCode: 40100 },
    { code: 'none', state: 'disconnected', errorCode: 80003 },
    { code: 'abrupt', state: 'disconnected', errorCode: 80003 },
    { code: 1007, state: 'failed', errorCode: 80000 },
    { code: 1008, state: 'failed', errorCode: 40100 },
    { code: 1009, state: 'failed', errorCode: 40000 },
    { code: 1010, state: 'failed', errorCode: 80000 },
    { code: 1011, state: 'failed', errorCode: 80000 },
    { code: 1012, state: 'disconnected', errorCode: 80003 },
    { code: 1013, state: 'disconnected', errorCode: 80003 },
    { code: 1014, state: 'disconnected', errorCode: 80003 },
    { code: 4000, state: 'disconnected', errorCode: 80003 },
  ];
  for (const row of TABLE) {
    it(`close ${row.code} after CONNECTED → ${row.state} (${row.errorCode})`, async () => {
      const server = await rawWsServer((ws) => {
        ws.send(CONNECTED);
        setTimeout(() => {
          if (row.code === 'abrupt') ws.terminate();
          else if (row.code === 'none') ws.close();
          else ws.close(row.code, 'test');
        }, 20);
      });
      const c = rawClient(server.port);
      try {
        const loss = firstLoss(c);
        await reach(c, 'connected');
        const change = await loss;
        assert.equal(change.current, row.state);
        assert.equal(change.reason?.code, row.errorCode);
      } finally {
        await closeClients(c);
        await server.close();
      }
    });
  }

  it('1015 (TLS failure, never sent on the wire) maps to failed too', () => {
    const outcome = closeOutcome(kit, 1015, '');
    assert.deepEqual([outcome.state, outcome.error.code], ['failed', 80000]);
  });
});

describe('refusals and errors at connect', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer();
  });
  after(async () => {
    await ts.close();
  });

  it('a WebSocket refused with 401 before any handshake is reported as 401 and fails', async () => {
    const http: Server = createServer();
    http.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const c = rawClient((http.address() as AddressInfo).port);
    try {
      const change = await firstLoss(c);
      assert.equal(change.current, 'failed');
      assert.equal(change.reason?.statusCode, 401);
    } finally {
      await closeClients(c);
      http.close();
    }
  });

  it('an in-band ERROR then close is reported as that ERROR, not as the close', async () => {
    const server = await rawWsServer((ws) => {
      ws.send(
        JSON.stringify({ action: Action.ERROR, error: { code: 40101, statusCode: 401, message: 'bad key from test' } }),
      );
      ws.close(1000);
    });
    const c = rawClient(server.port);
    try {
      const change = await firstLoss(c);
      assert.equal(change.current, 'failed');
      assert.equal(change.reason?.code, 40101);
      assert.equal(change.reason?.message, 'bad key from test');
    } finally {
      await closeClients(c);
      await server.close();
    }
  });

  for (const v of CLIENT_VARIANTS.filter((x) => x.format === 'json')) {
    it(`${v.name}: bad credentials fail with the server's error as the reason (40101)`, async () => {
      const c = enckeClient(ts, v, { key: 'testapp.full:wrong-secret' });
      try {
        const change = await firstLoss(c);
        assert.equal(change.current, 'failed');
        assert.equal(change.reason?.code, 40101);
        assert.equal(c.connection.errorReason?.code, 40101);
      } finally {
        await closeClients(c);
      }
    });

    it(`${v.name}: a failed recover is CONNECTED with a non-fatal error, reported to the application`, async () => {
      const recover = JSON.stringify({
        connectionKey: '_____!ablyjs_test_fake-key____',
        msgSerial: 0,
        channelSerials: {},
      });
      const c = enckeClient(ts, v, { recover });
      try {
        const change = await reach(c, 'connected');
        assert.ok(change?.reason && [80018, 80008].includes(change.reason.code), `reason ${change?.reason?.code}`);
        assert.equal(c.connection.errorReason?.code, change?.reason?.code);
        await c.channels.get('after-failed-recover').publish('still', 'works');
      } finally {
        await closeClients(c);
      }
    });
  }
});

describe('comet request discipline', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer();
  });
  after(async () => {
    await ts.close();
  });

  /** A fetch that counts requests by operation and the most of each in flight at once. */
  function countingFetch(): { fetch: typeof fetch; max: Record<string, number>; total: Record<string, number> } {
    const inFlight: Record<string, number> = {};
    const max: Record<string, number> = {};
    const total: Record<string, number> = {};
    const f: typeof fetch = async (input, init) => {
      const url = String(input);
      const op = /\/comet\/(?:connect|[^/]+\/(\w+))/.exec(url)?.[1] ?? 'connect';
      const kind = op === 'connect' ? 'recv' : op;
      total[op] = (total[op] ?? 0) + 1;
      inFlight[kind] = (inFlight[kind] ?? 0) + 1;
      max[kind] = Math.max(max[kind] ?? 0, inFlight[kind] ?? 0);
      const done = (): void => {
        inFlight[kind] = (inFlight[kind] ?? 1) - 1;
      };
      const res = await fetch(input, init).catch((err: unknown) => {
        done();
        throw err;
      });
      // The request counts as pending until its body has been read to the end.
      const body = res.body?.pipeThrough(new TransformStream({ flush: done }));
      if (!body) done();
      return new Response(body ?? null, { status: res.status, statusText: res.statusText, headers: res.headers });
    };
    return { fetch: f, max, total };
  }

  for (const v of CLIENT_VARIANTS.filter((x) => x.transport !== 'web_socket' && x.format === 'json')) {
    it(`${v.name}: at most one send and one recv pending; writes in between go together`, async () => {
      const counter = countingFetch();
      const c = enckeClient(ts, v, { fetch: counter.fetch });
      try {
        await reach(c, 'connected');
        const ch = c.channels.get('discipline');
        await Promise.all(Array.from({ length: 40 }, (_, i) => ch.publish('n', i)));
        assert.equal(counter.max['send'], 1);
        assert.equal(counter.max['recv'], 1);
        assert.ok((counter.total['send'] ?? 0) < 40, `40 publishes took ${counter.total['send']} sends`);
      } finally {
        await closeClients(c);
      }
    });

    it(`${v.name}: close issues /close once; a drop issues nothing more and leaves the connection resumable`, async () => {
      const counter = countingFetch();
      const closer = enckeClient(ts, v, { fetch: counter.fetch });
      await reach(closer, 'connected');
      const closedId = closer.connection.id;
      closer.close();
      await reach(closer, 'closed');
      assert.equal(counter.total['close'], 1);
      await eventually(() => !serverHas(ts, closedId), 3000, 'closed connection discarded');

      const dropCounter = countingFetch();
      const dropper = enckeClient(ts, v, { fetch: dropCounter.fetch, disconnectedRetryTimeout: 60_000 });
      await reach(dropper, 'connected');
      const before = { ...dropCounter.total };
      const internals = dropper as unknown as { manager: { drop(e: Error): void; connect(): void } };
      const lost = dropper.connection.once('disconnected');
      internals.manager.drop(new Error('test drop') as never);
      await lost;
      assert.equal(dropCounter.total['close'], undefined);
      assert.equal(dropCounter.total['disconnect'], undefined);
      assert.equal(dropCounter.total['send'] ?? 0, before['send'] ?? 0);
      assert.ok(serverHas(ts, dropper.connection.id), 'the server keeps a dropped connection for a resume');
      await closeClients(dropper);
    });
  }
});

describe('TLS: non-default host, port and TLS; TLS-only apps', () => {
  const SECURE_KEY = 'secure.main:secure-secret-0001';
  const APPS = [...TEST_APPS, { id: 'secure', tlsOnly: true, keys: [{ key: SECURE_KEY }] }];
  let cert: TestCert;
  let secure: TestServer;
  let plain: TestServer;
  before(async () => {
    trustAnyCertificate();
    cert = makeTestCert();
    secure = await startServer({ apps: APPS, tlsCert: cert.cert, tlsKey: cert.key });
    plain = await startServer({ apps: APPS });
  });
  after(async () => {
    await secure.close();
    await plain.close();
    cert.remove();
  });

  for (const v of CLIENT_VARIANTS.filter((x) => x.format === 'json')) {
    it(`${v.name} over TLS on a non-default port: connects, publishes, reads history`, async () => {
      const c = new Realtime({
        key: SECURE_KEY,
        endpoint: '127.0.0.1',
        tls: true,
        tlsPort: secure.port,
        transports: [v.transport],
        pollInterval: 50,
        logLevel: 0,
      });
      try {
        await reach(c, 'connected');
        const ch = c.channels.get('over-tls');
        await ch.publish('hello', 'secure');
        const page = await ch.history();
        assert.equal(page.items[0]?.data, 'secure');
      } finally {
        await closeClients(c);
      }
    });

    it(`${v.name}: a TLS-only app refuses a plain connection (40103), failed`, async () => {
      const c = new Realtime({
        key: SECURE_KEY,
        endpoint: '127.0.0.1',
        tls: false,
        port: plain.port,
        transports: [v.transport],
        logLevel: 0,
      });
      try {
        const change = await firstLoss(c);
        assert.equal(change.current, 'failed');
        assert.equal(change.reason?.code, 40103);
      } finally {
        await closeClients(c);
      }
    });
  }
});
