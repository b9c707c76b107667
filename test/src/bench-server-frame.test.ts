/**
 * The bench clients' check of what a server wrote (bench/src/clients/server-frame.ts): the fields they
 * read come out typed, a MESSAGE's missing message ids are derived as every Ably client derives them
 * (TM2a: the server leaves them out, wire/derived-fields.ts; S8's delta chains name them), and a
 * frame of another shape is an error, never a guess. The built bench module runs in a child process,
 * as the other bench tests run it.
 */
import { isArrayValue, isPlainObject } from '@encke/protocol';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { jsonValue } from './helpers/json.js';
import { REPO } from './helpers/process.js';

/** Runs in the child: each row's JSON through serverFrames (and one msgpack frame), the outcomes as JSON. */
const DRIVER = `
const rows = JSON.parse(process.argv[1]);
const dist = new URL('bench/dist/', 'file://' + process.cwd() + '/').href;
const { serverFrames } = await import(dist + 'clients/server-frame.js');
const { decodeFrame, encodeMsgpack } = await import('@encke/protocol');
const run = (value) => {
  try {
    return { frames: serverFrames(value) };
  } catch (err) {
    return { error: String(err.message) };
  }
};
const out = rows.map((text) => run(JSON.parse(text)));
const binary = decodeFrame(encodeMsgpack({ action: 15, id: 'p!1', messages: [{ data: new Uint8Array([1, 2, 3]) }] }), 'msgpack');
const [frame] = serverFrames(binary);
out.push({ frames: [{ ...frame, messages: frame.messages.map((m) => ({ ...m, data: Array.from(m.data), bytes: m.data instanceof Uint8Array })) }] });
console.log(JSON.stringify(out));
`;

const ACCEPTED: [name: string, frame: unknown, expected: unknown][] = [
  [
    'CONNECTED: its key',
    { action: 4, id: 'x', connectionId: 'c', connectionDetails: { connectionKey: 'k!s', maxMessageSize: 65536 } },
    [{ action: 4, connectionKey: 'k!s' }],
  ],
  [
    'ATTACHED: channel and params',
    { action: 11, channel: 'ch', params: { delta: 'vcdiff' }, flags: 1 },
    [{ action: 11, channel: 'ch', params: { delta: 'vcdiff' } }],
  ],
  [
    'ERROR: code and message',
    { action: 9, error: { code: 40160, statusCode: 401, message: 'denied' } },
    [{ action: 9, error: { code: 40160, message: 'denied' } }],
  ],
  [
    'MESSAGE without message ids: derived as <id>:<index>',
    { action: 15, id: 'conn!7', channel: 'c', messages: [{ data: 'a' }, { data: 'b', encoding: 'json' }] },
    [
      {
        action: 15,
        channel: 'c',
        messages: [
          { id: 'conn!7:0', data: 'a' },
          { id: 'conn!7:1', data: 'b', encoding: 'json' },
        ],
      },
    ],
  ],
  [
    "MESSAGE: a message's own id and its delta reference kept",
    { action: 15, id: 'p', messages: [{ id: 'own', data: 'd', extras: { delta: { from: 'p:0', format: 'vcdiff' } } }] },
    [{ action: 15, messages: [{ id: 'own', data: 'd', delta: { from: 'p:0', format: 'vcdiff' } }] }],
  ],
  ['a comet batch', [{ action: 0 }, { action: 11, channel: 'c' }], [{ action: 0 }, { action: 11, channel: 'c' }]],
  ['an empty batch', [], []],
];

const REFUSED: [name: string, frame: unknown, error: RegExp][] = [
  ['not an object', 'text', /not an object/],
  ['null in a batch', [{ action: 0 }, null], /not an object/],
  ['no action', { channel: 'c' }, /no integer action/],
  ['a text action', { action: '4' }, /no integer action/],
  ['a fractional action', { action: 4.5 }, /no integer action/],
  ['a numeric channel', { action: 11, channel: 1 }, /channel that is not a string/],
  ['a numeric connection key', { action: 4, connectionDetails: { connectionKey: 5 } }, /connectionKey/],
  ['connectionDetails as text', { action: 4, connectionDetails: 'k' }, /connectionDetails/],
  ['a param that is not text', { action: 11, params: { delta: 1 } }, /param delta/],
  ['an error as text', { action: 9, error: 'denied' }, /error that is not an object/],
  ['messages as an object', { action: 15, messages: {} }, /messages that are not an array/],
  ['message data as a number', { action: 15, messages: [{ data: 5 }] }, /neither text nor bytes/],
  ['a delta reference as text', { action: 15, messages: [{ extras: { delta: 'p:0' } }] }, /delta reference/],
  ['a numeric delta from', { action: 15, messages: [{ extras: { delta: { from: 1 } } }] }, /delta from/],
];

interface Outcome {
  frames?: unknown;
  error?: string;
}

function outcomes(text: string): Outcome[] {
  const v = jsonValue(text);
  if (!isArrayValue(v)) throw new Error(`not a driver report: ${text}`);
  return v.map((o: unknown) => {
    if (!isPlainObject(o)) throw new Error(`not an outcome: ${String(o)}`);
    return typeof o.error === 'string' ? { error: o.error } : { frames: o.frames };
  });
}

describe('bench clients: a server frame checked into the fields they read', () => {
  it('accepts what encke writes, derives missing message ids, refuses every other shape', async () => {
    const rows = [...ACCEPTED.map(([, f]) => f), ...REFUSED.map(([, f]) => f)].map((f) => JSON.stringify(f));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', DRIVER, JSON.stringify(rows)],
      { cwd: REPO, timeout: 60_000 },
    );
    const got = outcomes(stdout);
    ACCEPTED.forEach(([name, , expected], i) => assert.deepEqual(got[i], { frames: expected }, name));
    REFUSED.forEach(([name, , error], i) => {
      const o = got[ACCEPTED.length + i]!;
      assert.equal(o.frames, undefined, `${name}: refused`);
      assert.match(o.error ?? '', error, name);
    });
    assert.deepEqual(
      got[ACCEPTED.length + REFUSED.length],
      { frames: [{ action: 15, messages: [{ id: 'p!1:0', data: [1, 2, 3], bytes: true }] }] },
      'msgpack: bytes stay bytes, the id is derived',
    );
  });
});
