/**
 * The parked socket's recv head reader (packages/server/src/http/recv-head.ts) takes exactly the
 * plain recv heads it documents and refuses everything else, smuggling shapes first (table), and
 * what it takes node:http's own parser (llhttp) reads the same way: one complete GET with the same
 * target, the same headers, no body, kept alive, every byte consumed (fast-check, fixed seed).
 */
import { isArrayValue } from '@encke/protocol';
import { field } from '../helpers/field.js';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_RECV_HEAD_BYTES, parseRecvHead } from '@encke/server/internal';

const SEED = 19_319;
const KEY = 'Ab3_x-Y9!s3cr3tK3y0';
const QUERY = 'key=app.k%3Asecret&rnd=8842&stream=false';
const LINE = `GET /comet/${KEY}/recv?${QUERY} HTTP/1.1`;

/** A head from a request line and header lines. */
function head(line: string, headers: readonly string[]): Buffer {
  return Buffer.from(`${line}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`, 'latin1');
}

const HOST = 'Host: 127.0.0.1:8080';
const ABLY_JS = [HOST, 'accept: application/json', 'Connection: keep-alive'];

describe('recv head reader: accepted heads', () => {
  const table: [string, Buffer, { key: string; query: string; accept: string | undefined }][] = [
    ['ably-js 2.x on Node', head(LINE, ABLY_JS), { key: KEY, query: QUERY, accept: 'application/json' }],
    ['the bench client', head(LINE, [HOST]), { key: KEY, query: QUERY, accept: undefined }],
    ['no query', head(`GET /comet/${KEY}/recv HTTP/1.1`, [HOST]), { key: KEY, query: '', accept: undefined }],
    [
      'msgpack, any case, spaces and tabs around values',
      head(LINE, ['hOsT:x', 'ACCEPT: \t application/x-msgpack \t', 'connection: Keep-Alive', 'X-Ably-Version: 3']),
      { key: KEY, query: QUERY, accept: 'application/x-msgpack' },
    ],
    [
      'every allowed header',
      head(LINE, [
        HOST,
        'Accept: */*',
        'Connection: keep-alive',
        'User-Agent: node',
        'Accept-Encoding: gzip',
        'Accept-Language: en',
        'Cache-Control: no-cache',
        'Pragma: no-cache',
        'X-Ably-Version: 3',
        'X-Ably-Lib: js-node-2.0.0',
        'X-Ably-Agent: ably-js/2.0.0',
        'Ably-Agent: ably-js/2.0.0',
      ]),
      { key: KEY, query: QUERY, accept: '*/*' },
    ],
  ];
  for (const [name, bytes, want] of table) {
    it(name, () => assert.deepEqual(parseRecvHead(bytes), want));
  }
});

describe('recv head reader: refused heads (node:http gets them untouched)', () => {
  const ok = head(LINE, ABLY_JS).toString('latin1');
  const table: [string, string | Buffer][] = [
    ['a partial head (the rest not read yet: slowloris)', ok.slice(0, -2)],
    ['only the request line', `${LINE}\r\n`],
    ['a request pipelined behind', ok + ok],
    ['a body behind the head', `${ok}x`],
    ['Content-Length: 0', head(LINE, [...ABLY_JS, 'Content-Length: 0'])],
    ['Content-Length twice, conflicting', head(LINE, [HOST, 'Content-Length: 0', 'Content-Length: 5'])],
    ['Transfer-Encoding: chunked', head(LINE, [HOST, 'Transfer-Encoding: chunked'])],
    ['Transfer-Encoding and Content-Length', head(LINE, [HOST, 'Transfer-Encoding: chunked', 'Content-Length: 3'])],
    ['a folded header line (obs-fold)', head(LINE, [HOST, 'Accept: application/json', ' text/plain'])],
    ['a folded line with a tab', head(LINE, [HOST, 'User-Agent: a', '\tb'])],
    ['a space before the colon', head(LINE, [HOST, 'Accept : application/json'])],
    ['a header without a colon', head(LINE, [HOST, 'Accept'])],
    ['an empty header name', head(LINE, [HOST, ': x'])],
    ['bare LF line ends', ok.replace(/\r\n/g, '\n')],
    ['one bare LF line end', ok.replace('\r\nHost', '\nHost')],
    ['a bare CR inside a value', head(LINE, [HOST, 'User-Agent: a\rb'])],
    ['a bare LF inside a value', head(LINE, [HOST, 'User-Agent: a\nb'])],
    ['a CR in the request line', `GET /comet/${KEY}/recv?a=1\r HTTP/1.1\r\n${HOST}\r\n\r\n`],
    ['a NUL in a value', head(LINE, [HOST, 'User-Agent: a\0b'])],
    [
      'a byte above 0x7e in a value',
      Buffer.concat([head(LINE, [HOST]).subarray(0, -4), Buffer.from('\r\nUser-Agent: \xe9\r\n\r\n', 'latin1')]),
    ],
    ['a DEL in a value', head(LINE, [HOST, 'User-Agent: a\x7fb'])],
    ['no Host', head(LINE, ['Accept: application/json'])],
    ['Host twice', head(LINE, [HOST, HOST])],
    ['Accept twice', head(LINE, [HOST, 'Accept: application/json', 'Accept: application/x-msgpack'])],
    ['Connection: close', head(LINE, [HOST, 'Connection: close'])],
    ['Connection: Upgrade', head(LINE, [HOST, 'Connection: Upgrade', 'Upgrade: websocket'])],
    ['Connection with two tokens', head(LINE, [HOST, 'Connection: keep-alive, close'])],
    ['Origin (CORS is node:http’s)', head(LINE, [HOST, 'Origin: https://app.example'])],
    ['Referer', head(LINE, [HOST, 'Referer: https://app.example/page'])],
    ['Authorization', head(LINE, [HOST, 'Authorization: Basic YTpi'])],
    ['Cookie', head(LINE, [HOST, 'Cookie: encke_server=a'])],
    ['Last-Event-ID', head(LINE, [HOST, 'Last-Event-ID: x'])],
    ['Expect', head(LINE, [HOST, 'Expect: 100-continue'])],
    ['an unknown header', head(LINE, [HOST, 'X-Other: 1'])],
    ['Pragma twice', head(LINE, [HOST, 'Pragma: x', 'Pragma: y'])],
    ['oversize', head(LINE, [HOST, `User-Agent: ${'a'.repeat(MAX_RECV_HEAD_BYTES)}`])],
    ['POST', head(LINE.replace('GET', 'POST'), [HOST, 'Content-Length: 0'])],
    ['HEAD', head(LINE.replace('GET', 'HEAD'), [HOST])],
    ['lower-case method', head(LINE.replace('GET', 'get'), [HOST])],
    ['HTTP/1.0', head(LINE.replace('HTTP/1.1', 'HTTP/1.0'), [HOST])],
    ['HTTP/1.1 in lower case', head(LINE.replace('HTTP/1.1', 'http/1.1'), [HOST])],
    ['two spaces after the method', head(LINE.replace('GET ', 'GET  '), [HOST])],
    ['a tab for a space', head(LINE.replace(' HTTP', '\tHTTP'), [HOST])],
    ['absolute form', head(`GET http://h/comet/${KEY}/recv HTTP/1.1`, [HOST])],
    ['a percent escape in the key', head(`GET /comet/a%21b/recv HTTP/1.1`, [HOST])],
    ['an empty key', head(`GET /comet//recv HTTP/1.1`, [HOST])],
    ['a key with a slash', head(`GET /comet/a/b/recv HTTP/1.1`, [HOST])],
    ['an oversize key', head(`GET /comet/${'k'.repeat(129)}/recv HTTP/1.1`, [HOST])],
    ['another endpoint', head(`GET /comet/${KEY}/send?body=x HTTP/1.1`, [HOST])],
    ['recv with a suffix', head(`GET /comet/${KEY}/recvx HTTP/1.1`, [HOST])],
    ['recv with a trailing slash', head(`GET /comet/${KEY}/recv/ HTTP/1.1`, [HOST])],
    ['connect', head(`GET /comet/connect HTTP/1.1`, [HOST])],
    ['a fragment', head(`GET /comet/${KEY}/recv?a=1#f HTTP/1.1`, [HOST])],
    ['a space in the query', head(`GET /comet/${KEY}/recv?a=1 b HTTP/1.1`, [HOST])],
    [
      'a non-ASCII byte in the target',
      Buffer.from(`GET /comet/${KEY}/recv?a=\xe9 HTTP/1.1\r\n${HOST}\r\n\r\n`, 'latin1'),
    ],
    ['empty', ''],
    ['only CRLFs', '\r\n\r\n'],
  ];
  for (const [name, bytes] of table) {
    it(name, () =>
      assert.equal(parseRecvHead(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes), undefined),
    );
  }
});

// ---- against node:http's parser ----------------------------------------------------------------

interface HttpParser {
  initialize(type: number, resource: object, maxHeaderSize?: number, lenient?: number): void;
  execute(data: Buffer): number | Error;
  finish(): number | Error | undefined;
  close(): void;
  [key: number]: unknown;
}
interface HttpParserClass {
  new (): HttpParser;
  REQUEST: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
}
/** `require`, typed as what a module it loads is until checked: unknown. */
const load: (id: string) => unknown = createRequire(import.meta.url);
const common = load('_http_common');
assert.ok(typeof common === 'object' && common !== null, "node's _http_common");
const parserClass = field(common, 'HTTPParser');
const methodList = field(common, 'methods');
assert.ok(typeof parserClass === 'function', '_http_common.HTTPParser');
assert.ok(
  isArrayValue(methodList) && methodList.every((m): m is string => typeof m === 'string'),
  '_http_common.methods',
);
// node's own parser class, as _http_common exports it (checked above to be a function).
const HTTPParser = parserClass as HttpParserClass;
const methods: readonly string[] = methodList;

interface Parsed {
  messages: number;
  method: string;
  url: string;
  version: string;
  headers: string[];
  keepAlive: boolean;
  body: boolean;
  consumed: number | Error;
}

/** What llhttp, as node:http runs it (strict), reads from `bytes`. */
function llhttp(bytes: Buffer): Parsed {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.REQUEST, {}, 0, 0);
  const out: Parsed = {
    messages: 0,
    method: '',
    url: '',
    version: '',
    headers: [],
    keepAlive: false,
    body: false,
    consumed: 0,
  };
  parser[HTTPParser.kOnHeaders] = (headers: string[], url: string) => {
    out.headers.push(...headers);
    out.url += url;
  };
  parser[HTTPParser.kOnHeadersComplete] = (
    major: number,
    minor: number,
    headers: string[] | undefined,
    method: number,
    url: string | undefined,
    _status: unknown,
    _message: unknown,
    _upgrade: boolean,
    keepAlive: boolean,
  ) => {
    if (headers) out.headers.push(...headers);
    if (url) out.url += url;
    out.method = methods[method] ?? '';
    out.version = `${major}.${minor}`;
    out.keepAlive = keepAlive;
  };
  parser[HTTPParser.kOnBody] = () => (out.body = true);
  parser[HTTPParser.kOnMessageComplete] = () => void out.messages++;
  out.consumed = parser.execute(bytes);
  parser.close();
  return out;
}

/** A head the reader took is one complete, kept-alive GET to node:http, read the same way. */
function sameAsNode(bytes: Buffer): void {
  const got = parseRecvHead(bytes);
  if (!got) return;
  const node = llhttp(bytes);
  const what = JSON.stringify(bytes.toString('latin1'));
  assert.equal(node.consumed, bytes.length, `node consumed all of ${what}`);
  assert.equal(node.messages, 1, what);
  assert.equal(node.method, 'GET', what);
  assert.equal(node.version, '1.1', what);
  assert.equal(node.keepAlive, true, what);
  assert.equal(node.body, false, what);
  assert.equal(
    node.url,
    `/comet/${got.key}/recv${got.query === '' && !node.url.includes('?') ? '' : `?${got.query}`}`,
    what,
  );
  const names = node.headers.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
  assert.equal(new Set(names).size, names.length, `no header twice in ${what}`);
  assert.ok(names.includes('host'), what);
  for (const banned of ['content-length', 'transfer-encoding', 'origin', 'authorization', 'upgrade'])
    assert.ok(!names.includes(banned), `${banned} in ${what}`);
  const accept = names.indexOf('accept');
  assert.equal(got.accept, accept < 0 ? undefined : node.headers[accept * 2 + 1], what);
}

const keyChar = fc.constantFrom(...'Aa0z9-._~!'.split(''), '%', '/', '?', ' ', '#');
const queryChar = fc.constantFrom(..."key=a&b%3A+!$'()*,;:@/?".split(''), ' ', '#', '\t', '\x7f', '\xe9');
const name = fc.constantFrom(
  'Host',
  'host',
  'Accept',
  'accept',
  'Connection',
  'User-Agent',
  'X-Ably-Version',
  'Pragma',
  'Content-Length',
  'Transfer-Encoding',
  'Origin',
  'Authorization',
  'Upgrade',
  'X-Other',
);
const value = fc.oneof(
  fc.constantFrom(
    'keep-alive',
    'close',
    'application/json',
    'application/x-msgpack',
    '0',
    '5',
    'chunked',
    'websocket',
    '',
  ),
  fc.string({ unit: fc.constantFrom('a', ' ', '\t', ',', '\r', '\n', '\0', '\x7f', '\xe9'), maxLength: 6 }),
);
const headerLine = fc
  .tuple(name, fc.constantFrom(':', ': ', ' :', ':\t'), value)
  .map(([n, sep, v]) => `${n}${sep}${v}`);
const validHead = fc
  .tuple(
    fc.string({ unit: fc.constantFrom(...'Aa0z9-._~!'.split('')), minLength: 1, maxLength: 40 }),
    fc.string({ unit: fc.constantFrom(..."key=a&b%3A+!$'()*,;:@/?".split('')), maxLength: 60 }),
    fc.subarray(['Accept: application/json', 'Connection: keep-alive', 'User-Agent: node', 'X-Ably-Version: 3']),
  )
  .map(([key, query, extra]) => ({
    key,
    query,
    bytes: head(`GET /comet/${key}/recv?${query} HTTP/1.1`, [HOST, ...extra]),
  }));

/** Mostly `good`, sometimes `bad`: each piece of a head is usually right, so some heads are taken. */
const mostly = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ arbitrary: good, weight: 5 }, { arbitrary: bad, weight: 1 });
const goodKey = fc.string({ unit: fc.constantFrom(...'Aa0z9-._~!'.split('')), minLength: 1, maxLength: 12 });
const goodHeader = fc.constantFrom('Host: a', 'Accept: application/json', 'Connection: keep-alive', 'Pragma: x');

/** A head of random pieces: the shapes smuggling uses, mixed with the valid ones. */
const roughHead = fc
  .tuple(
    mostly(fc.constant('GET'), fc.constantFrom('POST', 'get', 'GET ')),
    mostly(goodKey, fc.string({ unit: keyChar, maxLength: 12 })),
    mostly(fc.constant('/recv'), fc.constantFrom('/recv/', '/send', '')),
    fc.string({ unit: mostly(fc.constantFrom(...'key=a&b%3A+'.split('')), queryChar), maxLength: 12 }),
    mostly(fc.constant(' HTTP/1.1'), fc.constantFrom(' HTTP/1.0', ' http/1.1', 'HTTP/1.1')),
    fc.array(mostly(goodHeader, headerLine), { maxLength: 5 }),
    mostly(fc.constant('\r\n'), fc.constantFrom('\n', '\r')),
    mostly(fc.constant(''), fc.constantFrom('x', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', '0\r\n\r\n')),
  )
  .map(([method, key, path, query, version, headers, eol, tail]) =>
    Buffer.from(
      `${method} /comet/${key}${path}?${query}${version}${eol}Host: h${eol}${headers.map((h) => `${h}${eol}`).join('')}${eol}${tail}`,
      'latin1',
    ),
  );

describe('recv head reader against node:http’s parser', () => {
  it('reads every valid head exactly', () => {
    fc.assert(
      fc.property(validHead, ({ key, query, bytes }) => {
        const got = parseRecvHead(bytes);
        assert.ok(got, bytes.toString('latin1'));
        assert.equal(got.key, key);
        assert.equal(got.query, query);
        sameAsNode(bytes);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('takes from random heads only what node:http reads as one plain kept-alive GET recv', () => {
    let taken = 0;
    fc.assert(
      fc.property(roughHead, (bytes) => {
        if (parseRecvHead(bytes)) taken++;
        sameAsNode(bytes);
      }),
      { seed: SEED, numRuns: 5000 },
    );
    // The generator reaches both sides (else the property says nothing).
    assert.ok(taken > 50, `taken ${taken}`);
  });

  it('never throws on random bytes, and what it takes node:http reads the same way', () => {
    const bytes = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b));
    const mutated = fc.tuple(validHead, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([head, at, byte]) => {
      const copy = Buffer.from(head.bytes);
      copy[at % copy.length] = byte;
      return copy;
    });
    fc.assert(fc.property(fc.oneof(bytes, mutated), sameAsNode), { seed: SEED, numRuns: 5000 });
  });
});
