/**
 * The load generator's HTTP client (bench/src/clients/raw-http.ts; issue 19, bench/README `cstrm2`, `gen6`)
 * parses a streamed chunked body where it was read, and keeps what a read leaves over. Every HTTP stack's
 * subscribers read through it. Here a raw TCP server writes a chunked response in random pieces (so that
 * chunks, size lines and CRLFs are split across reads at every kind of place, and several chunks share a
 * read), some chunks with extensions, then the last chunk, and a Content-Length answer to the next request on
 * the same socket; the client, the built bench one in a child process, must hand over every chunk whole
 * and in order, end the stream, and read the next answer.
 */
import { isArrayValue, isPlainObject } from '@encke/protocol';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { jsonValue } from './helpers/json.js';
import { REPO } from './helpers/process.js';

/** Runs in the child: one streamed GET, its chunks collected, then one plain GET on the same client. */
const DRIVER = `
const [port] = process.argv.slice(1);
const dist = new URL('bench/dist/', 'file://' + process.cwd() + '/').href;
const { RawHttp } = await import(dist + 'clients/raw-http.js');
const http = new RawHttp(Number(port));
const chunks = [];
const streamed = await http.request('GET', '/stream', undefined, undefined, (chunk) => chunks.push(chunk.toString('latin1')));
const plain = await http.request('GET', '/plain');
http.close();
console.log(JSON.stringify({ status: streamed.status, chunks, plainStatus: plain.status, plain: plain.body.toString('latin1') }));
process.exit(0);
`;

interface Plan {
  chunks: string[];
  wire: string;
}

/** Chunks of 1-600 characters (some with `;ext=…`, sizes in either case of hex), then the last chunk. */
const CHUNKS = fc.array(fc.record({ size: fc.integer({ min: 1, max: 600 }), upper: fc.boolean(), ext: fc.boolean() }), {
  minLength: 150,
  maxLength: 150,
});
/** The pieces the wire is written in (1-2,000 bytes, some after a 1 ms pause), taken in turn until it is all written. */
const PIECES = fc.array(fc.record({ n: fc.integer({ min: 1, max: 2000 }), pause: fc.boolean() }), {
  minLength: 64,
  maxLength: 64,
});

/** The seed's plan (fast-check's generator, so that a failure can be replayed from its seed). */
function plan(seed: number): Plan {
  const drawn = fc.sample(CHUNKS, { seed, numRuns: 1 })[0] ?? [];
  const chunks: string[] = [];
  let wire = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
  drawn.forEach(({ size, upper, ext }, i) => {
    const body = `[${i}]` + 'x'.repeat(size).slice(String(i).length + 2);
    chunks.push(body);
    const size16 = upper ? body.length.toString(16).toUpperCase() : body.length.toString(16);
    wire += `${size16}${ext ? ';ext=1' : ''}\r\n${body}\r\n`;
  });
  wire += '0\r\n\r\n';
  return { chunks, wire };
}

interface Report {
  status: number;
  chunks: string[];
  plainStatus: number;
  plain: string;
}

function reportOf(text: string): Report {
  const v = jsonValue(text);
  if (
    !isPlainObject(v) ||
    typeof v.status !== 'number' ||
    !isArrayValue(v.chunks) ||
    !v.chunks.every((c): c is string => typeof c === 'string') ||
    typeof v.plainStatus !== 'number' ||
    typeof v.plain !== 'string'
  )
    throw new Error(`not a driver report: ${text}`);
  return { status: v.status, chunks: [...v.chunks], plainStatus: v.plainStatus, plain: v.plain };
}

/** Writes `wire` to the socket in the seed's pieces, each after the previous one was flushed and a turn (or 1 ms). */
async function writeInPieces(socket: Socket, wire: string, seed: number): Promise<void> {
  const pieces = fc.sample(PIECES, { seed: seed ^ 0x5bd1e995, numRuns: 1 })[0] ?? [{ n: 2000, pause: false }];
  const bytes = Buffer.from(wire, 'latin1');
  for (let at = 0, k = 0; at < bytes.length; k++) {
    const { n, pause } = pieces[k % pieces.length]!;
    const piece = bytes.subarray(at, at + n);
    at += n;
    await new Promise<void>((resolve) => socket.write(piece, () => setTimeout(resolve, pause ? 1 : 0)));
  }
}

describe('bench generator: the HTTP client reads chunked streams split anywhere', () => {
  let server: Server;
  let port = 0;
  let current: Plan = { chunks: [], wire: '' };
  let seed = 0;
  before(async () => {
    server = createServer((socket) => {
      socket.on('data', (d: Buffer) => {
        if (d.includes('GET /stream')) void writeInPieces(socket, current.wire, seed);
        // The next request on the same (keep-alive) socket, after the stream's end.
        else if (d.includes('GET /plain')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nplain');
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    port = address.port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  for (const s of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`seed ${s}: every chunk whole and in order, then the next answer`, async () => {
      seed = s;
      current = plan(s);
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--input-type=module', '-e', DRIVER, String(port)],
        {
          cwd: REPO,
          timeout: 60_000,
        },
      );
      const report = reportOf(stdout);
      assert.equal(report.status, 200);
      assert.equal(report.chunks.length, current.chunks.length);
      assert.deepEqual(report.chunks, current.chunks);
      assert.deepEqual([report.plainStatus, report.plain], [200, 'plain']);
    });
  }
});
