/**
 * What an update, delete or append makes of a message (channels/message-merge.ts), as a table;
 * appends as a property (fast-check, fixed seed): any sequence of fragments accumulates to their
 * concatenation while each delivery carries only its fragment; and the refusals (40013).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AblyError, MessageAction, type Message } from '@encke/protocol';
import { mergeChange } from '@encke/server/internal';

const SEED = 20261206;
const ORIGINAL: Message = {
  id: 'c:1:0',
  serial: 'e-00000000001:000',
  clientId: 'author',
  connectionId: 'c',
  timestamp: 1000,
  name: 'n',
  data: 'hello',
  extras: { headers: { a: '1' } },
  action: MessageAction.CREATE,
};
const V = { timestamp: 2000, clientId: 'editor', description: 'why' };

interface Row {
  label: string;
  change: Message;
  live: Partial<Message>;
  full?: Partial<Message>;
}

const TABLE: Row[] = [
  {
    label: 'update: data replaced, the rest kept',
    change: { action: MessageAction.UPDATE, data: 'bye' },
    live: { data: 'bye', name: 'n', extras: { headers: { a: '1' } }, action: MessageAction.UPDATE },
  },
  {
    label: 'update: name and extras replaced, data kept',
    change: { action: MessageAction.UPDATE, name: 'm', extras: { x: 1 } },
    live: { data: 'hello', name: 'm', extras: { x: 1 } },
  },
  {
    label: 'update: data with its encoding',
    change: { action: MessageAction.UPDATE, data: '{"a":1}', encoding: 'json' },
    live: { data: '{"a":1}', encoding: 'json' },
  },
  {
    label: 'delete without data keeps the data',
    change: { action: MessageAction.DELETE },
    live: { data: 'hello', action: MessageAction.DELETE },
  },
  {
    label: 'delete with data replaces it',
    change: { action: MessageAction.DELETE, data: '' },
    live: { data: '', action: MessageAction.DELETE },
  },
  {
    label: 'append: the fragment delivered, the whole kept as an update',
    change: { action: MessageAction.APPEND, data: ' world', name: 'm' },
    live: { data: ' world', action: MessageAction.APPEND, name: 'm' },
    full: { data: 'hello world', action: MessageAction.UPDATE, name: 'm', id: 'c:1:0' },
  },
  {
    label: 'append without data changes only fields',
    change: { action: MessageAction.APPEND, extras: { y: 2 } },
    live: { action: MessageAction.APPEND, extras: { y: 2 } },
    full: { data: 'hello', extras: { y: 2 } },
  },
];

describe('message changes: merge', () => {
  for (const row of TABLE) {
    it(row.label, () => {
      const merged = mergeChange(ORIGINAL, row.change, V, 'x:9:0');
      assert.deepEqual({ ...merged.live, ...row.live }, merged.live, 'live fields');
      assert.equal(merged.live.id, 'x:9:0', 'the delivery has an id of its own');
      assert.equal(merged.live.serial, ORIGINAL.serial);
      assert.equal(merged.live.clientId, 'author');
      assert.equal(merged.live.timestamp, 1000);
      assert.deepEqual(merged.live.version, V);
      if (row.full) assert.deepEqual({ ...merged.full, ...row.full }, merged.full, 'full fields');
      else assert.equal(merged.full, undefined);
      assert.equal(ORIGINAL.data, 'hello', 'the message read is not modified');
    });
  }

  const refused: [string, Message, Message][] = [
    ['binary onto a string', ORIGINAL, { action: MessageAction.APPEND, data: new Uint8Array([1]) }],
    ['a string onto binary', { ...ORIGINAL, data: new Uint8Array([1]) }, { action: MessageAction.APPEND, data: 'x' }],
    ['another encoding', { ...ORIGINAL, encoding: 'utf-8' }, { action: MessageAction.APPEND, data: 'x' }],
    [
      'onto JSON',
      { ...ORIGINAL, data: '{}', encoding: 'json' },
      { action: MessageAction.APPEND, data: '{}', encoding: 'json' },
    ],
    [
      'onto an encrypted payload',
      { ...ORIGINAL, data: new Uint8Array([1]), encoding: 'cipher+aes-128-cbc' },
      { action: MessageAction.APPEND, data: new Uint8Array([2]), encoding: 'cipher+aes-128-cbc' },
    ],
  ];
  for (const [label, message, change] of refused) {
    it(`refuses an append of ${label} (40013)`, () => {
      assert.throws(
        () => mergeChange(message, change, V, 'x'),
        (e: AblyError) => e.code === 40013,
      );
    });
  }

  it('appends accumulate to the concatenation of their fragments, strings or bytes', () => {
    const fragments = fc.oneof(
      fc.array(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 12 }),
      fc.array(fc.uint8Array({ maxLength: 8 }), { minLength: 1, maxLength: 12 }),
    );
    fc.assert(
      fc.property(fragments, (parts) => {
        let latest: Message = { ...ORIGINAL, data: typeof parts[0] === 'string' ? '' : new Uint8Array(0) };
        for (const [i, part] of parts.entries()) {
          const merged = mergeChange(latest, { action: MessageAction.APPEND, data: part }, V, `a:${i}`);
          assert.deepEqual(merged.live.data, part);
          latest = merged.full!;
        }
        const expected =
          typeof parts[0] === 'string' ? (parts as string[]).join('') : Buffer.concat(parts as Uint8Array[]);
        assert.deepEqual(typeof expected === 'string' ? latest.data : Buffer.from(latest.data as Uint8Array), expected);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});
