/**
 * The connect query reader (packages/server/src/http/query-params.ts) answers every `get` exactly
 * as `URLSearchParams` does, over random query strings made of the characters that matter (`&`,
 * `=`, `+`, `%`, hex digits, a leading `?`, non-ASCII and surrogates, well- and ill-formed escapes)
 * (fast-check, fixed seed), and over the queries ably-js sends.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseQuery } from '@encke/server/internal';

const SEED = 19_063;

const NAMES = ['key', 'access_token', 'format', 'v', 'clientId', 'a', 'a b', 'é', '', 'x+y', 'k%'];
const piece = fc.oneof(
  fc.constantFrom(
    '&',
    '=',
    '+',
    '%',
    '?',
    '%20',
    '%2B',
    '%26',
    '%3D',
    '%C3%A9',
    '%E2%82',
    '%FF',
    '%zz',
    '%4',
    '%F0%9F%98%80',
  ),
  fc.constantFrom('key', 'format', 'a', 'b', 'msgpack', 'é', '😀', '\uD800', '\uDC00', 'ED', '%ED%A0%80', '%C0%AF'),
  fc.string({ maxLength: 4 }),
  fc.string({ unit: 'binary', maxLength: 3 }),
);
const query = fc.array(piece, { maxLength: 24 }).map((parts) => parts.join(''));

function sameAnswers(text: string): void {
  const want = new URLSearchParams(text);
  const got = parseQuery(text);
  const names = new Set([...NAMES, ...want.keys()]);
  for (const name of names)
    assert.equal(got.get(name), want.get(name), `get(${JSON.stringify(name)}) of ${JSON.stringify(text)}`);
}

describe('connect query parameters', () => {
  it('answers every get as URLSearchParams does, on random query strings', () => {
    fc.assert(fc.property(query, sameAnswers), { seed: SEED, numRuns: 3000 });
  });

  const table: [string, string][] = [
    [
      'ably-js 2.x over WebSocket',
      'key=app.k%3Asecret&format=msgpack&heartbeats=true&v=3&agent=ably-js%2F2.28.0%20nodejs%2F20',
    ],
    ['a token and a clientId with a space', 'access_token=abc.def-ghi&clientId=a+b%20c&echo=false'],
    ['repeated names: the first wins', 'format=json&format=msgpack'],
    ['a leading ?', '?format=msgpack&a='],
    ['a name without a value, and empty pieces', '&&a&&b=&=c'],
    ['a malformed escape', 'key=a%zz&format=msgpack'],
    ['an escape that is not UTF-8', 'clientId=%FF%FE&format=json'],
    ['a lone surrogate', 'clientId=\uD800x'],
    ['the empty query', ''],
  ];
  for (const [name, text] of table) it(name, () => sameAnswers(text));
});
