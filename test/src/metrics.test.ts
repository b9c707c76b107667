/**
 * /metrics and `node.metrics.snapshot()` after a known workload with the official SDK (WebSocket
 * JSON and msgpack, comet, REST): exact counts of connects, refusals by code, resumes, messages in
 * and out, ACK and delivery latency observations, engine operations, connections by transport and
 * format, disconnects; the Prometheus text says the same numbers; the optional token; a Redis
 * reconnect.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as Ably from 'ably';
import { Action } from '@encke/protocol';
import { readFileSync } from 'node:fs';
import { METRIC_FAMILIES, type MetricsSnapshot } from '@encke/server';
import { DEPLOYMENT_DOC } from './helpers/deployment-doc.js';
import { closeAll, Collector, connect, connectionState, eventually } from './helpers/ably.js';
import { Balancer } from './helpers/balancer.js';
import { RawCometClient } from './helpers/raw-comet.js';
import { RawClient } from './helpers/raw-ws.js';
import { startCluster } from './helpers/cluster.js';
import { httpGet } from './helpers/process.js';
import { TestRedis } from './helpers/redis.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

function client(port: number, options: Ably.ClientOptions = {}): Ably.Realtime {
  return new Ably.Realtime({
    key: KEYS.full,
    endpoint: '127.0.0.1',
    port,
    tls: false,
    logLevel: 0,
    disableConnectivityCheck: true,
    disconnectedRetryTimeout: 100,
    ...options,
  });
}

/** `name{labels} value` lines of the exposition text, by series. */
function series(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

describe('metrics after a known workload', () => {
  let ts: TestServer;
  let balancer: Balancer;
  const clients: Ably.Realtime[] = [];
  before(async () => {
    ts = await startServer();
    balancer = await Balancer.start([ts.port], 'tcp');
  });
  after(async () => {
    await closeAll(...clients);
    await balancer.close();
    await ts.close();
  });

  it('counts exactly what happened, and /metrics says the same', { timeout: 60_000 }, async () => {
    const wsJson = client(ts.port, { useBinaryProtocol: false, transports: ['web_socket'] });
    const wsMsgpack = client(ts.port, { useBinaryProtocol: true, transports: ['web_socket'] });
    const comet = client(ts.port, { transports: ['comet'] });
    const resumer = client(balancer.port, { useBinaryProtocol: true, transports: ['web_socket'] });
    const publisher = client(ts.port, { useBinaryProtocol: false, transports: ['web_socket'], echoMessages: false });
    clients.push(wsJson, wsMsgpack, comet, resumer, publisher);
    await Promise.all(clients.map((c) => connect(c)));
    const subscribers = [wsJson, wsMsgpack, comet];
    const collectors = subscribers.map(() => new Collector());
    await Promise.all(subscribers.map((s, i) => s.channels.get('metrics').subscribe(collectors[i]!.listener)));
    await publisher.channels.get('metrics').attach();

    // One wrong secret: refused (40101 family), never connected.
    const wrong = client(ts.port, { key: `${KEYS.full.split(':')[0]}:wrong-secret-000` });
    const failed = await connectionState(wrong, 'failed').catch((err: Error) => err);
    assert.ok(!(failed instanceof Error) || wrong.connection.state === 'failed');
    const refusedCode = wrong.connection.errorReason?.code;
    assert.ok(refusedCode !== undefined && refusedCode >= 40100 && refusedCode < 40200, `refused with ${refusedCode}`);
    wrong.close();

    // Five realtime publishes (five ACKs), one REST publish of two messages.
    for (let i = 0; i < 5; i++) await publisher.channels.get('metrics').publish('n', String(i));
    const rest = new Ably.Rest({ key: KEYS.full, endpoint: '127.0.0.1', port: ts.port, tls: false, logLevel: 0 });
    await rest.channels.get('metrics').publish([
      { name: 'r', data: 'a' },
      { name: 'r', data: 'b' },
    ]);
    await Promise.all(collectors.map((c) => c.waitFor(7)));

    // A dropped transport resumed: the resumer's TCP connection is cut under it.
    const resumerId = resumer.connection.id;
    balancer.killAll();
    await connectionState(resumer, 'disconnected');
    await connect(resumer);
    assert.equal(resumer.connection.id, resumerId);

    const m: MetricsSnapshot = ts.server.metrics.snapshot();
    assert.deepEqual(m.connects, { ok: 6, failed: 1 }, 'five clients, one resume; one refused');
    assert.deepEqual(m.resumes, { ok: 1, failed: 0 });
    assert.deepEqual(m.authFailures, { [String(refusedCode)]: 1 });
    assert.deepEqual(m.messagesIn, { realtime: 5, rest: 2 });
    assert.equal(
      m.messagesOut,
      23,
      'seven messages to each of three subscribers, and the two REST ones to the attached publisher (echo off hides only its own)',
    );
    assert.equal(m.ackLatency.count, 5);
    assert.equal(
      m.deliveryLatency.count,
      6,
      'once per event on this node: five realtime publishes, one REST publish of two messages',
    );
    assert.equal(m.engineOperations.publish?.count, 6, 'five realtime publishes and one REST publish');
    assert.deepEqual(m.engineErrors, {});
    assert.deepEqual(m.connections, { web_socket: { json: 2, msgpack: 2 }, comet: { json: 1, msgpack: 0 } });
    assert.equal(m.connectionsResumable, 0);
    assert.deepEqual(m.errors, { [String(refusedCode)]: 1 }, 'the one refusal is the one error sent');
    assert.equal(m.disconnects.transport_lost, 1);
    assert.ok(m.bytesOut.web_socket > 0 && m.bytesOut.comet > 0);
    assert.deepEqual(m.slowConsumerDisconnects, { web_socket: 0, comet: 0, sse: 0, badge: 0 });

    // The Prometheus text carries the same numbers.
    const answer = await httpGet(ts.port, '/metrics');
    assert.equal(answer.status, 200);
    assert.match(String(answer.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const s = series(answer.text);
    const now = ts.server.metrics.snapshot();
    assert.equal(s.get('encke_connects_total{result="ok"}'), now.connects.ok);
    assert.equal(s.get('encke_connects_total{result="failed"}'), 1);
    assert.equal(s.get('encke_resumes_total{result="ok"}'), 1);
    assert.equal(s.get(`encke_auth_failures_total{code="${refusedCode}"}`), 1);
    assert.equal(s.get(`encke_errors_total{code="${refusedCode}"}`), 1);
    assert.equal(s.get('encke_messages_in_total{source="realtime"}'), 5);
    assert.equal(s.get('encke_messages_in_total{source="rest"}'), 2);
    assert.equal(s.get('encke_messages_out_total'), 23);
    assert.equal(s.get('encke_ack_latency_seconds_count'), 5);
    assert.equal(s.get('encke_ack_latency_seconds_bucket{le="+Inf"}'), 5);
    assert.equal(s.get('encke_delivery_latency_seconds_count'), 6);
    assert.equal(s.get('encke_engine_operation_seconds_count{op="publish"}'), 6);
    assert.equal(s.get('encke_connections{transport="web_socket",format="msgpack"}'), 2);
    assert.equal(s.get('encke_connections{transport="comet",format="json"}'), 1);
    assert.equal(s.get('encke_disconnects_total{reason="transport_lost"}'), 1);
    assert.equal(s.get('encke_bytes_out_total{transport="comet"}'), now.bytesOut.comet);
    assert.ok((s.get('process_resident_memory_bytes') ?? 0) > 0, 'process metrics');
    assert.ok(s.has('nodejs_eventloop_lag_seconds'));
    // Never labelled by channel or client.
    assert.doesNotMatch(answer.text, /\{[^}]*\b(channel|client|clientId|connectionId|app|appId)=/);
    assert.doesNotMatch(answer.text, /="metrics"/, 'no channel name as a label value');

    // A client that closes: one disconnect (closed), one connection fewer.
    await closeAll(wsJson);
    await eventually(() => ts.server.metrics.snapshot().disconnects.closed === 1, 5000, 'closed counted');
    assert.equal(ts.server.metrics.snapshot().connections.web_socket?.json, 1);
  });
});

describe('slow consumers', () => {
  it(
    'a comet connection that stops fetching past maxCometQueue: one slow-consumer disconnect, its queue counted as dropped',
    { timeout: 30_000 },
    async () => {
      const ts = await startServer({ maxCometQueue: 5 });
      const comet = await RawCometClient.connect(ts.port, { stream: false, autoRecv: false });
      try {
        await comet.send([{ action: Action.ATTACH, channel: 'slow' }]);
        const rest = new Ably.Rest({ key: KEYS.full, endpoint: '127.0.0.1', port: ts.port, tls: false, logLevel: 0 });
        for (let i = 0; i < 20 && ts.server.metrics.snapshot().slowConsumerDisconnects.comet === 0; i++)
          await rest.channels.get('slow').publish('n', String(i));
        const m = ts.server.metrics.snapshot();
        assert.deepEqual(m.slowConsumerDisconnects, { web_socket: 0, comet: 1, sse: 0, badge: 0 });
        assert.deepEqual(m.queueDrops, { web_socket: 0, comet: 6, sse: 0, badge: 0 }, 'the queue past its limit of 5');
        assert.equal(m.disconnects.transport_lost, 1);
        const s = series((await httpGet(ts.port, '/metrics')).text);
        assert.equal(s.get('encke_slow_consumer_disconnects_total{transport="comet"}'), 1);
        assert.equal(s.get('encke_queue_drops_total{transport="comet"}'), 6);
      } finally {
        comet.drop();
        await ts.close();
      }
    },
  );
});

describe('slow consumers over WebSocket', () => {
  it(
    'a WebSocket client that stops reading past maxOutboundBuffer: one slow-consumer disconnect',
    { timeout: 60_000 },
    async () => {
      const ts = await startServer({ maxOutboundBuffer: 65_536 });
      const ws = await RawClient.connect(ts.port, KEYS.full);
      try {
        ws.send({ action: Action.ATTACH, channel: 'slow-ws' });
        await ws.next(Action.ATTACHED);
        // Stop reading: the kernel's buffers fill, then the server's socket buffer grows.
        (ws.ws as unknown as { _socket: { pause(): void } })._socket.pause();
        const rest = new Ably.Rest({ key: KEYS.full, endpoint: '127.0.0.1', port: ts.port, tls: false, logLevel: 0 });
        const data = 'x'.repeat(60_000);
        for (let i = 0; i < 2000 && ts.server.metrics.snapshot().slowConsumerDisconnects.web_socket === 0; i++)
          await rest.channels.get('slow-ws').publish('n', data);
        const m = ts.server.metrics.snapshot();
        assert.deepEqual(m.slowConsumerDisconnects, { web_socket: 1, comet: 0, sse: 0, badge: 0 });
        assert.equal(m.disconnects.transport_lost, 1);
        assert.equal(
          series((await httpGet(ts.port, '/metrics')).text).get(
            'encke_slow_consumer_disconnects_total{transport="web_socket"}',
          ),
          1,
        );
      } finally {
        ws.drop();
        await ts.close();
      }
    },
  );
});

describe('the metric names', () => {
  it('every family is exported by /metrics and listed in docs/deployment.md', async () => {
    const doc = readFileSync(DEPLOYMENT_DOC, 'utf8');
    const ts = await startServer();
    try {
      const text = (await httpGet(ts.port, '/metrics')).text;
      for (const f of METRIC_FAMILIES) {
        assert.match(doc, new RegExp(`^\\| \`${f.name}\` \\| ${f.type} \\|`, 'm'), `${f.name} in the doc's table`);
        assert.match(text, new RegExp(`^# TYPE ${f.name} ${f.type}$`, 'm'));
      }
      assert.ok(METRIC_FAMILIES.length >= 17);
    } finally {
      await ts.close();
    }
  });
});

describe('/metrics with a token', () => {
  it('needs Authorization: Bearer <metricsToken>', async () => {
    const ts = await startServer({ metricsToken: 'scrape-token-0001' });
    try {
      assert.equal((await httpGet(ts.port, '/metrics')).status, 401);
      assert.equal((await httpGet(ts.port, '/metrics', { authorization: 'Bearer nope' })).status, 401);
      const ok = await httpGet(ts.port, '/metrics', { authorization: 'Bearer scrape-token-0001' });
      assert.equal(ok.status, 200);
      assert.equal(series(ok.text).get('encke_auth_failures_total{code="40101"}'), 2);
    } finally {
      await ts.close();
    }
  });
});

describe('metrics on Redis', () => {
  const redis = TestRedis.perSuite();

  it('counts a Redis reconnect', { timeout: 30_000 }, async () => {
    const cluster = await startCluster(redis, 1);
    try {
      const node = cluster.nodes[0]!;
      assert.equal(node.metrics.snapshot().redisReconnects, 0);
      await redis.restart();
      await eventually(() => node.metrics.snapshot().redisReconnects === 1, 20_000, 'one reconnect');
      assert.equal(series((await httpGet(cluster.ports[0]!, '/metrics')).text).get('encke_redis_reconnects_total'), 1);
    } finally {
      await cluster.close();
    }
  });
});
