/**
 * The load generator's encke WebSocket client (bench/src/clients: issue 19, bench/README `gen6`) reads
 * CONNECTED and ATTACHED without the general decoder and writes ATTACH without the general encoder.
 * Against a real encke server, in a child process running the built bench client (bench/dist, built
 * by `npm run build` with the rest): every frame the fast reader reads gives the action, connection key
 * and channel the full decoder gives; what it leaves (escapes, non-ASCII, a long msgpack str, any other
 * action) is left whole to the decoder; its ATTACH bytes are the codec's; a subscriber still opens only
 * once every channel is attached, and a refused ATTACH or connection still fails the open.
 */
import { createServer, type EnckeNode } from '@encke/server';
import { isArrayValue, isPlainObject } from '@encke/protocol';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { jsonValue } from './helpers/json.js';
import { REPO } from './helpers/process.js';

const BENCH_KEY = 'bench.k1:bench-secret-not-for-production';

/** Runs in the child: subscribes with the bench client, then reads a raw connection's set-up frames both ways. */
const DRIVER = `
const [port, format, ...channels] = process.argv.slice(1);
const dist = new URL('bench/dist/', 'file://' + process.cwd() + '/').href;
const { EnckeWsClient } = await import(dist + 'clients/encke.js');
const { RawWs } = await import(dist + 'clients/raw-ws.js');
const { NOT_READ, attachJson, attachMsgpack, readSetup, setup } = await import(dist + 'clients/setup-frames.js');
const { Sink } = await import(dist + 'payload.js');
const { decodeFrame, encodeJson, encodeMsgpack } = await import('@encke/protocol');
const out = { subscribed: false, error: '', frames: [], encodings: [] };
const client = new EnckeWsClient({ port: Number(port), sink: new Sink(), lost() {} }, format);
try {
  (await client.subscribe(channels)).close();
  out.subscribed = true;
} catch (err) {
  out.error = err.message;
}
const frames = [];
let closed = false;
const key = encodeURIComponent('${BENCH_KEY}');
const ws = await RawWs.connect(Number(port), '/?key=' + key + '&format=' + format + '&heartbeats=false&v=6', {
  onMessage(payload) { frames.push(Buffer.from(payload)); },
  onClose() { closed = true; },
});
const until = async (n) => { for (let i = 0; i < 500 && frames.length < n && !closed; i++) await new Promise((r) => setTimeout(r, 10)); };
await until(1);
for (const channel of channels) {
  const pm = { action: 10, channel };
  const json = attachJson(channel);
  const mp = attachMsgpack(channel);
  out.encodings.push({ channel, json: json === encodeJson(pm), msgpack: mp === null ? null : Buffer.from(encodeMsgpack(pm)).equals(mp) });
  if (format === 'json') ws.sendText(json);
  else ws.sendBinary(mp ?? encodeMsgpack(pm));
}
await until(1 + channels.length);
ws.close();
for (const frame of frames) {
  const pm = decodeFrame(format === 'json' ? frame.toString('utf8') : frame, format);
  const read = readSetup(frame, format === 'msgpack');
  out.frames.push({
    action: pm.action,
    key: pm.connectionDetails?.connectionKey ?? null,
    channel: pm.channel ?? null,
    read: read === NOT_READ ? null : read,
    value: read === NOT_READ ? null : setup.value,
  });
}
console.log(JSON.stringify(out));
process.exit(0);
`;

interface FrameRead {
  action: number;
  key: string | null;
  channel: string | null;
  read: number | null;
  value: string | null;
}

interface Encoding {
  channel: string;
  json: boolean;
  msgpack: boolean | null;
}

interface Report {
  subscribed: boolean;
  error: string;
  frames: FrameRead[];
  encodings: Encoding[];
}

const orNull = (v: unknown, type: 'string' | 'number' | 'boolean'): boolean => v === null || typeof v === type;

function isFrameRead(v: unknown): v is FrameRead {
  return (
    isPlainObject(v) &&
    typeof v.action === 'number' &&
    orNull(v.key, 'string') &&
    orNull(v.channel, 'string') &&
    orNull(v.read, 'number') &&
    orNull(v.value, 'string')
  );
}

function isEncoding(v: unknown): v is Encoding {
  return isPlainObject(v) && typeof v.channel === 'string' && v.json === true && orNull(v.msgpack, 'boolean');
}

function reportOf(text: string): Report {
  const v = jsonValue(text);
  if (
    !isPlainObject(v) ||
    typeof v.subscribed !== 'boolean' ||
    typeof v.error !== 'string' ||
    !isArrayValue(v.frames) ||
    !v.frames.every(isFrameRead) ||
    !isArrayValue(v.encodings) ||
    !v.encodings.every(isEncoding)
  )
    throw new Error(`not a driver report: ${text}`);
  return { subscribed: v.subscribed, error: v.error, frames: [...v.frames], encodings: [...v.encodings] };
}

async function drive(port: number, format: 'json' | 'msgpack', channels: readonly string[]): Promise<Report> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', DRIVER, String(port), format, ...channels],
    { cwd: REPO, timeout: 60_000 },
  );
  return reportOf(stdout);
}

const PLAIN = ['ok:1', 'ok:two', `ok:${'a'.repeat(40)}`];
/** Left to the general decoder by the fast reader: an escape, non-ASCII; in msgpack also a str 16. */
const ESCAPED = 'ok:"q\\';
const NON_ASCII = 'ok:é';
const LONG = `ok:${'b'.repeat(300)}`;

for (const format of ['json', 'msgpack'] as const) {
  describe(`bench generator: encke ${format} set-up frames`, () => {
    let node: EnckeNode;
    let port = 0;
    let stranger: EnckeNode;
    let strangerPort = 0;
    before(async () => {
      node = createServer({
        host: '127.0.0.1',
        port: 0,
        apps: [{ id: 'bench', keys: [{ key: BENCH_KEY, capability: { 'ok:*': ['subscribe'] } }] }],
      });
      port = (await node.listen()).port;
      // A server that does not know the bench key: its connections are refused.
      stranger = createServer({ host: '127.0.0.1', port: 0, keys: ['other.k1:other-secret-not-the-bench'] });
      strangerPort = (await stranger.listen()).port;
    });
    after(async () => {
      await node.close();
      await stranger.close();
    });

    it('opens once every channel is attached; each frame read fast gives what the decoder gives', async () => {
      const channels = [...PLAIN, ESCAPED, NON_ASCII, LONG];
      const report = await drive(port, format, channels);
      assert.equal(report.error, '');
      assert.equal(report.subscribed, true);
      assert.equal(report.frames.length, 1 + channels.length);
      const [connected, ...attached] = report.frames;
      assert.equal(connected!.action, 4);
      assert.ok(connected!.key);
      assert.deepEqual([connected!.read, connected!.value], [4, connected!.key]);
      assert.deepEqual(
        attached.map((f) => f.channel),
        channels,
      );
      for (const f of attached) {
        assert.equal(f.action, 11);
        const leftWhole = f.channel === NON_ASCII || (format === 'json' ? f.channel === ESCAPED : f.channel === LONG);
        assert.deepEqual([f.read, f.value], leftWhole ? [null, null] : [11, f.channel], `ATTACHED ${f.channel}`);
      }
      // The ATTACH bytes are the codec's (msgpack: null where the client leaves it to the encoder).
      for (const e of report.encodings)
        assert.equal(e.msgpack, e.channel === NON_ASCII || e.channel === LONG ? null : true, e.channel);
    });

    it('a refused ATTACH (ERROR) fails the open', async () => {
      const report = await drive(port, format, ['ok:1', 'denied']);
      assert.equal(report.subscribed, false);
      assert.match(report.error, /action 9 .*40160/);
      const error = report.frames.find((f) => f.action === 9);
      assert.ok(error, 'the server answered the ATTACH with an ERROR');
      assert.equal(error.read, null);
    });

    it('a refused connection fails the open', async () => {
      const report = await drive(strangerPort, format, ['ok:1']);
      assert.equal(report.subscribed, false);
      assert.match(report.error, /encke: (action 9|connection closed)/);
    });
  });
}
