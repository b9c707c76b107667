/**
 * `node bench/dist/format-ab.js`: JSON against msgpack in ONE encke server at the same time, so that a
 * busy machine disturbs both alike (two bench cases minutes apart cannot tell a 5% difference here).
 *
 *   node bench/dist/format-ab.js [--subscribers 1000] [--rate 20] [--warmup 100] [--messages 600] [--same]
 *
 * One encke server (pinned as in the bench); in this process (pinned as the generator), subscribers
 * on one channel alternating JSON and msgpack (so both have the same places in the fan-out), and two
 * publishers taking turns, one JSON and one msgpack (`--same`: both JSON, the A/A control). The
 * payload's padding says which publisher sent it. Reported: latency per (subscriber format,
 * publisher format), and per publisher format, per message, the first delivery (the publish's own
 * path: client encoding if counted, server decoding, the ACK, the first write) and the spread from
 * the first to the last delivery (the fan-out and the reads). bench/README, `mpack`.
 */
import { parseArgs } from 'node:util';
import { EnckeWsClient } from './clients/encke.js';
import type { Conn, Pub } from './clients/client.js';
import { Deployment } from './deployment.js';
import { Histogram } from './histogram.js';
import { Sink, nowUs } from './payload.js';
import { pinSelf } from './procs.js';
import { STACKS } from './stacks.js';

type Format = 'json' | 'msgpack';
const FORMATS: readonly Format[] = ['json', 'msgpack'];
const MARKER = Buffer.from('~BM', 'latin1');
const DIGITS = 13;
const ZERO = 48;
/** Padding bytes naming the publisher: `j` JSON, `m` msgpack. */
const PAD: Record<Format, string> = { json: 'j', msgpack: 'm' };
const PAD_BYTE = 0x6a;
const PAYLOAD_PADDING = 183;
const CHANNEL = 'shared';
const OPEN_BATCH = 50;

interface PerMessage {
  publisher: Format;
  first: number;
  last: number;
  count: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The bench's sink with another scanner: this tool's records instead of one histogram. */
class FormatSink extends Sink {
  constructor(private readonly scanner: (buf: Uint8Array) => number) {
    super();
  }

  override scan(buf: Uint8Array): number {
    return this.scanner(buf);
  }
}

class Recorder {
  recording = false;
  readonly latency = new Map<string, Histogram>();
  readonly messages = new Map<number, PerMessage>();

  /** A subscriber's scanner (the ClientContext sink): one payload per frame here. */
  sink(subscriber: Format): Sink {
    return new FormatSink((buf) => {
      const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
      const at = bytes.indexOf(MARKER);
      if (at < 0 || at + MARKER.length + DIGITS + 2 > bytes.length) return 0;
      const now = nowUs();
      let sent = 0;
      for (let i = at + MARKER.length; i < at + MARKER.length + DIGITS; i++) sent = sent * 10 + (bytes[i]! - ZERO);
      const publisher: Format = bytes[at + MARKER.length + DIGITS + 1] === PAD_BYTE ? 'json' : 'msgpack';
      if (this.recording) this.record(subscriber, publisher, sent, now - sent);
      return 1;
    });
  }

  private record(subscriber: Format, publisher: Format, sent: number, us: number): void {
    const key = `${subscriber} <- ${publisher}`;
    let h = this.latency.get(key);
    if (!h) this.latency.set(key, (h = new Histogram()));
    h.record(us);
    let m = this.messages.get(sent);
    if (!m) this.messages.set(sent, (m = { publisher, first: us, last: us, count: 0 }));
    m.count++;
    m.first = Math.min(m.first, us);
    m.last = Math.max(m.last, us);
  }
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))] ?? NaN;
}

const ms = (us: number): string => (us / 1000).toFixed(3);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      subscribers: { type: 'string', default: '1000' },
      rate: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '100' },
      messages: { type: 'string', default: '600' },
      same: { type: 'boolean', default: false },
    },
  });
  const subscribers = Number(values.subscribers);
  const period = 1000 / Number(values.rate);
  pinSelf();
  const server = await Deployment.start(STACKS['encke-ws-json']);
  const rec = new Recorder();
  const port = server.ports[0]!;
  const lost = (): void => undefined;
  const clients: Record<Format, EnckeWsClient> = {
    json: new EnckeWsClient({ port, sink: rec.sink('json'), lost }, 'json'),
    msgpack: new EnckeWsClient({ port, sink: rec.sink('msgpack'), lost }, 'msgpack'),
  };
  const conns: Conn[] = [];
  try {
    for (let i = 0; i < subscribers; i += OPEN_BATCH) {
      const batch = Array.from({ length: Math.min(OPEN_BATCH, subscribers - i) }, (_, k) =>
        clients[k % 2 === 0 ? 'json' : 'msgpack'].subscribe([CHANNEL]),
      );
      conns.push(...(await Promise.all(batch)));
    }
    const pubs: Record<Format, Pub> = {
      json: await clients.json.publisher(),
      msgpack: await clients[values.same ? 'json' : 'msgpack'].publisher(),
    };
    let n = 0;
    const publish = (): void => {
      const f: Format = n++ % 2 === 0 ? 'json' : 'msgpack';
      const stamp = String(nowUs()).padStart(DIGITS, '0');
      pubs[f].publish(CHANNEL, `~BM${stamp}~${PAD[f].repeat(PAYLOAD_PADDING)}`);
    };
    const publishFor = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++) {
        publish();
        await sleep(period);
      }
    };
    await publishFor(Number(values.warmup));
    rec.recording = true;
    await publishFor(Number(values.messages));
    await sleep(1000);
    rec.recording = false;
    for (const [key, h] of [...rec.latency].sort())
      console.log(
        `${key.padEnd(18)} n ${h.total} p50 ${ms(h.quantile(0.5))} p90 ${ms(h.quantile(0.9))} p99 ${ms(h.quantile(0.99))} ms`,
      );
    for (const f of FORMATS) {
      const whole = [...rec.messages.values()].filter((m) => m.publisher === f && m.count === subscribers);
      const first = whole.map((m) => m.first);
      const spread = whole.map((m) => m.last - m.first);
      console.log(
        `published ${f.padEnd(7)} ${whole.length} messages: first delivery p10/p50 ${ms(quantile(first, 0.1))}/${ms(quantile(first, 0.5))} ms, ` +
          `first to last p10/p50/p90 ${ms(quantile(spread, 0.1))}/${ms(quantile(spread, 0.5))}/${ms(quantile(spread, 0.9))} ms`,
      );
    }
    pubs.json.close();
    pubs.msgpack.close();
  } finally {
    for (const c of conns) c.close();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
