/**
 * Every comet technique behind a round-robin balancer with no stickiness, two nodes on Redis: a
 * connection's requests land on either node and reach the one that holds it (forwarding); the
 * streams, polls and script tags all deliver what is published on the other node.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import * as Ably from 'ably';
import { Action } from '@encke/protocol';
import { Balancer } from './helpers/balancer.js';
import { startCluster, type TestCluster } from './helpers/cluster.js';
import { TestRedis } from './helpers/redis.js';
import { KEYS } from './helpers/server.js';

const K = `key=${encodeURIComponent(KEYS.full)}`;

/** A response read as it arrives: the text so far, the socket to cut. */
class Reading {
  text = '';
  ended = false;
  private constructor(readonly destroy: () => void) {}

  static open(
    port: number,
    path: string,
    headers: Record<string, string> = {},
    method = 'GET',
    body?: string,
  ): Promise<Reading> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
        const r = new Reading(() => res.destroy());
        res.setEncoding('utf8');
        res.on('data', (c: string) => (r.text += c));
        res.on('close', () => (r.ended = true));
        resolve(r);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  async until(what: string, ready: (text: string) => boolean, timeoutMs = 8000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ready(this.text)) {
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms: ${this.text.slice(-800)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async done(): Promise<string> {
    await this.until('the end', () => this.ended);
    return this.text;
  }
}

const keyIn = (text: string): string | undefined => /"connectionKey":"([^"]+)"/.exec(text)?.[1];
const namesIn = (text: string): string[] => [...text.matchAll(/"name":"(m\d+)"/g)].map((m) => m[1]!);

interface Technique {
  name: string;
  /** Connect query (after the key) and headers. */
  query: string;
  headers?: Record<string, string>;
  /** Streams (one response carries everything) or polls (recv after recv through the balancer). */
  streams: boolean;
  /** The recv query of a polling technique. */
  recv?: string;
}

const TECHNIQUES: Technique[] = [
  { name: 'fetch streaming', query: '', streams: true },
  { name: 'long polling', query: '&stream=false', streams: false, recv: '' },
  { name: 'plain polling', query: '&wait=0', streams: false, recv: '&wait=0' },
  { name: 'jsonp', query: '&envelope=jsonp&callback=cb', streams: false, recv: '&envelope=jsonp&callback=cb' },
  { name: 'sse', query: '', headers: { Accept: 'text/event-stream' }, streams: true },
  { name: 'htmlfile', query: `&envelope=htmlfile&origin=${encodeURIComponent('http://page.example')}`, streams: true },
  { name: 'multipart', query: '', headers: { Accept: 'multipart/x-mixed-replace' }, streams: true },
];

describe('comet techniques on two nodes behind a round-robin balancer (no stickiness)', () => {
  let redis: TestRedis;
  let cluster: TestCluster;
  let balancer: Balancer;
  before(async () => {
    redis = await TestRedis.start();
    cluster = await startCluster(redis, 2);
    balancer = await Balancer.start(cluster.ports, 'http');
  });
  after(async () => {
    await balancer.close();
    await cluster.close();
    await redis.close();
  });

  for (const t of TECHNIQUES) {
    it(`${t.name}: requests on either node, messages from the other node`, async () => {
      const channel = `rr-${t.name.replace(/ /g, '-')}`;
      const connect = await Reading.open(balancer.port, `/comet/connect?${K}&v=6${t.query}`, t.headers);
      await connect.until('CONNECTED', (text) => keyIn(text) !== undefined);
      const key = keyIn(connect.text)!;
      let seen = connect.text;
      const recvOnce = async (): Promise<void> => {
        seen += await (await Reading.open(balancer.port, `/comet/${key}/recv?${K}${t.recv ?? ''}`)).done();
      };
      const sent = await Reading.open(
        balancer.port,
        `/comet/${key}/send?${K}`,
        { 'Content-Type': 'application/json' },
        'POST',
        JSON.stringify([{ action: Action.ATTACH, channel }]),
      );
      await sent.done();
      const attached = (text: string): boolean => text.includes('"action":11');
      if (t.streams) await connect.until('ATTACHED', attached);
      else while (!attached(seen)) await recvOnce();
      const publisher = new Ably.Rest({ key: KEYS.full, endpoint: '127.0.0.1', port: cluster.ports[1]!, tls: false });
      for (let i = 0; i < 3; i++) await publisher.channels.get(channel).publish(`m${i}`, 'x');
      if (t.streams) await connect.until('3 messages', (text) => namesIn(text).length >= 3);
      else for (let i = 0; i < 50 && namesIn(seen).length < 3; i++) await recvOnce();
      assert.deepEqual(namesIn(t.streams ? connect.text : seen), ['m0', 'm1', 'm2']);
      assert.equal(new Set(balancer.routed.slice(-3)).size, 2, 'the requests went to both nodes');
      connect.destroy();
    });
  }

  it('an EventSource coming back on the other node resumes the same connection there', async () => {
    const first = await Reading.open(cluster.ports[0]!, `/comet/connect?${K}&v=6`, { Accept: 'text/event-stream' });
    await first.until('CONNECTED', (text) => keyIn(text) !== undefined);
    const id = /"connectionId":"([^"]+)"/.exec(first.text)![1];
    const lastId = /id: (\S+)/.exec(first.text)![1]!;
    first.destroy();
    const second = await Reading.open(cluster.ports[1]!, `/comet/connect?${K}&v=6`, {
      Accept: 'text/event-stream',
      'Last-Event-ID': lastId,
    });
    await second.until('CONNECTED', (text) => keyIn(text) !== undefined);
    assert.equal(/"connectionId":"([^"]+)"/.exec(second.text)![1], id);
    assert.ok(!/"error"/.test(second.text.slice(0, second.text.indexOf('connectionKey'))), 'resumed without error');
    second.destroy();
  });
});
