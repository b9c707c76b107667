/**
 * /metrics for the streamed paths besides the Ably protocol over WebSocket and comet: the SSE and
 * raw streaming API (`transport="sse"`), the occupancy badge (`transport="badge"`), and the comet
 * envelopes forever-iframe and multipart (`transport="comet"`): bytes written, and a stream dropped
 * as a slow consumer. Driven with real HTTP clients reading (or not reading) the streams.
 */
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { eventually } from './helpers/ably.js';
import { EventStreamReader } from './helpers/event-stream.js';
import { httpGet } from './helpers/process.js';
import { KEYS, startServer, type TestServer } from './helpers/server.js';

const K = encodeURIComponent(KEYS.full);

async function series(ts: TestServer, name: string): Promise<number | undefined> {
  const text = (await httpGet(ts.port, '/metrics')).text;
  const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

async function publish(ts: TestServer, channel: string, data: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${ts.port}/channels/${channel}/messages`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(KEYS.full).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ name: 'n', data }),
  });
  assert.equal(res.status, 201);
}

/** A streamed GET whose body is collected as raw bytes. */
class RawStream {
  bytes = 0;
  text = '';
  private constructor(readonly res: IncomingMessage) {
    res.on('data', (c: Buffer) => {
      this.bytes += c.length;
      this.text += c.toString('utf8');
    });
  }

  static open(port: number, path: string): Promise<RawStream> {
    return new Promise((resolve, reject) => {
      request({ host: '127.0.0.1', port, path }, (res) => resolve(new RawStream(res)))
        .on('error', reject)
        .end();
    });
  }

  close(): void {
    this.res.destroy();
  }
}

describe('metrics: bytes out on the SSE API, the badge and the comet envelopes', () => {
  it('sse: every byte of the stream is counted', async () => {
    const ts = await startServer();
    const r = await EventStreamReader.open(`http://127.0.0.1:${ts.port}/sse?channels=s&v=1.2&key=${K}`);
    try {
      assert.equal(r.status, 200);
      for (let i = 0; i < 3; i++) await publish(ts, 's', `m${i}`);
      await eventually(() => r.events.filter((e) => e.event === 'message').length === 3, 5000, 'three events');
      await eventually(
        () => ts.server.metrics.snapshot().bytesOut.sse === Buffer.byteLength(r.raw),
        5000,
        'the bytes read are the bytes counted',
      );
      assert.equal(await series(ts, 'encke_bytes_out_total{transport="sse"}'), Buffer.byteLength(r.raw));
    } finally {
      r.res.destroy();
      await ts.close();
    }
  });

  it('badge: every byte of the image stream is counted', async () => {
    const ts = await startServer();
    const badge = await RawStream.open(ts.port, `/badge/lobby?key=${K}`);
    try {
      assert.equal(badge.res.statusCode, 200);
      await eventually(() => badge.text.includes('</svg>'), 5000, 'the first image');
      await eventually(
        () => ts.server.metrics.snapshot().bytesOut.badge === badge.bytes,
        5000,
        'the bytes read are the bytes counted',
      );
      assert.equal(await series(ts, 'encke_bytes_out_total{transport="badge"}'), badge.bytes);
    } finally {
      badge.close();
      await ts.close();
    }
  });

  for (const [label, envelope] of [
    ['forever-iframe', `envelope=htmlfile&origin=${encodeURIComponent('http://127.0.0.1:9')}`],
    ['multipart', 'envelope=multipart'],
  ] as const) {
    it(`comet ${label}: its bytes are counted as comet`, async () => {
      const ts = await startServer();
      const stream = await RawStream.open(ts.port, `/comet/connect?key=${K}&v=2&format=json&${envelope}`);
      try {
        assert.equal(stream.res.statusCode, 200);
        await eventually(() => stream.text.includes('"connectionKey"'), 5000, 'CONNECTED');
        const read = stream.bytes;
        assert.ok(read > 0);
        await eventually(
          () => ts.server.metrics.snapshot().bytesOut.comet >= read,
          5000,
          'at least the body read is counted',
        );
        assert.ok((await series(ts, 'encke_bytes_out_total{transport="comet"}'))! >= read);
      } finally {
        stream.close();
        await ts.close();
      }
    });
  }
});

describe('metrics: slow consumers on the SSE API', () => {
  it(
    'a stream whose client stops reading past maxOutboundBuffer: one slow-consumer disconnect',
    { timeout: 60_000 },
    async () => {
      const ts = await startServer({ maxOutboundBuffer: 65_536 });
      const r = await EventStreamReader.open(`http://127.0.0.1:${ts.port}/sse?channels=slow&v=1.2&key=${K}`);
      try {
        assert.equal(r.status, 200);
        r.res.pause(); // the kernel's buffers fill, then the server's socket buffer grows
        const data = 'x'.repeat(60_000);
        for (let i = 0; i < 2000 && ts.server.metrics.snapshot().slowConsumerDisconnects.sse === 0; i++)
          await publish(ts, 'slow', data);
        assert.equal(ts.server.metrics.snapshot().slowConsumerDisconnects.sse, 1);
        assert.equal(await series(ts, 'encke_slow_consumer_disconnects_total{transport="sse"}'), 1);
      } finally {
        r.res.destroy();
        await ts.close();
      }
    },
  );
});
