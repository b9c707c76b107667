/**
 * The decoders' limit checks (protocol/src/limits.ts) keep one count per nesting level in an array
 * reused from check to check (a fresh one per publish was most of its decoding's garbage). Nothing
 * carries over: each container is counted from zero, in the same text and in the next one, after a
 * text refused half-way, and with limits of another depth (the array grown by deeper limits still
 * refuses past the smaller depth). JSON and msgpack, table-driven.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AblyError,
  Err,
  decodeJson,
  decodeMsgpack,
  encodeMsgpackValue,
  type DecodeLimits,
  parseJson,
} from '@encke/protocol';

/** Small bounds, so that texts a few bytes long reach them. */
const SMALL: DecodeLimits = { maxBytes: 100_000, maxDepth: 4, maxContainerLength: 3, maxStringLength: 1_000 };
const DEEP: DecodeLimits = { maxBytes: 100_000, maxDepth: 64, maxContainerLength: 3, maxStringLength: 1_000 };

type Case = [name: string, value: unknown, limits: DecodeLimits, refused: number | null];

/** In order: each row runs after the ones before it, on the same reused counts. */
const CASES: Case[] = [
  ['an array of 3 (the bound)', [1, 2, 3], SMALL, null],
  ['an array of 4', [1, 2, 3, 4], SMALL, Err.maxMessageSizeExceeded.code],
  [
    'three arrays of 3 in an array of 3',
    [
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ],
    SMALL,
    null,
  ],
  [
    'arrays of 3 in maps of 3, 3 deep',
    { a: { x: [1, 2, 3], y: [1, 2, 3] }, b: [1, 2, 3], c: { z: [1, 2, 3] } },
    SMALL,
    null,
  ],
  ['refused half-way: a 4th entry 3 deep', [[[1, 2, 3, 4]], [1, 2, 3]], SMALL, Err.maxMessageSizeExceeded.code],
  [
    'then arrays of 3 at every level again',
    [
      [
        [1, 2, 3],
        [1, 2, 3],
        [1, 2, 3],
      ],
      [1, 2, 3],
    ],
    SMALL,
    null,
  ],
  ['4 deep (the bound)', [[[[1, 2, 3]]]], SMALL, null],
  ['5 deep', [[[[[1]]]]], SMALL, Err.badRequest.code],
  ['20 deep with deeper limits', parseJson('['.repeat(20) + ']'.repeat(20)) as unknown, DEEP, null],
  ['5 deep again with the small limits', [[[[[1]]]]], SMALL, Err.badRequest.code],
  ['an array of 3 after all that', [1, 2, 3], SMALL, null],
];

function check(decode: () => unknown, want: unknown, refused: number | null, label: string): void {
  if (refused === null) {
    assert.deepStrictEqual(decode(), want, label);
    return;
  }
  assert.throws(decode, (err) => err instanceof AblyError && err.code === refused, label);
}

describe('decode limits reuse their per-level counts', () => {
  it('JSON: every container counted from zero, whatever came before', () => {
    for (let round = 0; round < 3; round++)
      for (const [name, value, limits, refused] of CASES)
        check(() => decodeJson(JSON.stringify(value), limits), value, refused, `${name} (round ${round})`);
  });

  it('msgpack: every container counted from zero, whatever came before', () => {
    for (let round = 0; round < 3; round++)
      for (const [name, value, limits, refused] of CASES)
        check(() => decodeMsgpack(encodeMsgpackValue(value), limits), value, refused, `${name} (round ${round})`);
  });

  it('JSON and msgpack checks in turn share the counts without mixing them', () => {
    for (const [name, value, limits, refused] of CASES) {
      check(() => decodeJson(JSON.stringify(value), limits), value, refused, `json ${name}`);
      check(() => decodeMsgpack(encodeMsgpackValue(value), limits), value, refused, `msgpack ${name}`);
    }
  });
});
