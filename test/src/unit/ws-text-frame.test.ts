/**
 * A JSON frame's WebSocket frame (wire/ws-framing.ts `wsTextFrame`, `pubpath2`): its text encoded
 * once into a scratch buffer and copied behind the header, instead of counted and then written. The
 * bytes are the counted way's (`wsFrame`) for every text (fast-check, fixed seed): ASCII, 2-, 3- and
 * 4-byte chars, lone surrogates, payloads at the 125/126 and 65535/65536 byte edges of the header,
 * and text too long for the scratch buffer (framed the counted way).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Action, encodeJson, type ProtocolMessage } from '@encke/protocol';
import { OutboundFrame, WS_OPCODE_TEXT, wsFrame } from '@encke/server/internal';

const SEED = 19_065;

function message(data: string): ProtocolMessage {
  return { action: Action.MESSAGE, channel: 'c', messages: [{ id: 'x:0:0', data }] };
}

function sameFrame(data: string): void {
  const pm = message(data);
  assert.deepEqual(new OutboundFrame(pm).ws('json'), wsFrame(encodeJson(pm), WS_OPCODE_TEXT));
}

/** The JSON around `data` in `message`: a data of `n - OVERHEAD` ASCII chars makes a payload of n bytes. */
const OVERHEAD = Buffer.byteLength(encodeJson(message('')));

describe('WebSocket text frames written once', () => {
  it('are the counted frames for any text', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'grapheme', maxLength: 80 }),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀', '\ud800', '"', '\n'), maxLength: 300 }),
    );
    fc.assert(
      fc.property(text, (t) => sameFrame(t)),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('are the counted frames at the header’s size edges and past the scratch buffer', () => {
    for (const n of [125, 126, 127, 65_535, 65_536]) sameFrame('a'.repeat(n - OVERHEAD));
    // 2-byte chars crossing the 125/126 edge in bytes but not in chars.
    for (const n of [60, 61, 62, 63, 64]) sameFrame('é'.repeat(n));
    // Past what the scratch buffer takes at 3 bytes a char (16 KiB), and just below it.
    for (const n of [5_400, 5_458, 5_459, 5_470, 20_000]) {
      sameFrame('€'.repeat(n));
      sameFrame('a'.repeat(n));
    }
  });

  it('do not share the scratch buffer: an earlier frame is unchanged by a later one', () => {
    const first = new OutboundFrame(message('first')).ws('json');
    const copy = Buffer.from(first);
    new OutboundFrame(message('second, longer')).ws('json');
    assert.deepEqual(first, copy);
  });
});
