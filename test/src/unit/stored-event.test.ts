/**
 * A channel's log events are made field by field (engine/stored-event.ts), not as
 * `{ ...input, seq, serial }`: V8 gave every such spread a hidden class of its own (three new maps,
 * ~0.8 KB per publish, bench S7). Checked with V8's own `%HaveSameMap` (natives syntax, enabled in
 * this test process only: node --test runs each file in its own process), and a fast-check property
 * (fixed seed) that the event holds exactly what the spread held.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import fc from 'fast-check';
import type { Message, PresenceMessage } from '@encke/protocol';
import { MemoryChannel, storedEvent } from '@encke/server/internal';

const SEED = 19_2026_1206;
const RETENTION = { maxCount: 1_000, maxAge: 60_000 };
const IDEMPOTENCY_WINDOW = 60_000;
/**
 * A clock reading as Date.now() gives it: past 2^31, so not a small integer. The spread's new
 * hidden classes came with such a timestamp (a double field); a small one hid them.
 */
const NOW = 1_765_000_000_123;
/**
 * Events compared per case: the spread shared its hidden class for the first ~9 calls of a site and
 * made a new one for every call after (V8 12.4, node 20), so a few calls would not show it.
 */
const CALLS = 40;

type SameMap = (a: object, b: object) => boolean;

function isSameMap(f: unknown): f is SameMap {
  return typeof f === 'function' && f.length === 2;
}

setFlagsFromString('--allow-natives-syntax');
const compiled: unknown = new Function('a', 'b', 'return %HaveSameMap(a, b)');
if (!isSameMap(compiled)) throw new Error('%HaveSameMap is not available');
const haveSameMap: SameMap = compiled;

/** A publish's event input as the publisher makes it (channels/publisher.ts messageEvent): a fresh literal. */
function messageInput(i: number, now: number, id?: string): Parameters<MemoryChannel['append']>[0] {
  const message: Message = { data: `m${i}`, name: 'n' };
  if (id !== undefined) message.id = id;
  return { kind: 'message', id: `conn:${i}`, timestamp: now, messages: [message], connectionId: 'conn' };
}

function presenceInput(clientId: string, now: number): Parameters<MemoryChannel['applyPresence']>[0] {
  const member: PresenceMessage = { action: 2, clientId, connectionId: `c-${clientId}`, id: `c-${clientId}:0:0` };
  return { kind: 'presence', id: `c-${clientId}:0`, timestamp: now, presence: [member], connectionId: `c-${clientId}` };
}

describe('stored events: one hidden class per shape', () => {
  it('gives publishes of the same shape events of one hidden class', () => {
    const now = NOW;
    const ch = new MemoryChannel(now, RETENTION);
    const events = Array.from({ length: CALLS }, (_, i) => ch.append(messageInput(i, now), now, 0).event!);
    for (const e of events.slice(1)) assert.equal(haveSameMap(events[0]!, e), true, `event ${e.seq}`);
  });

  it('keeps it for idempotent publishes with duplicates left out, and for presence events', () => {
    const now = NOW;
    const ch = new MemoryChannel(now, RETENTION);
    ch.append(messageInput(0, now, 'dup'), now, IDEMPOTENCY_WINDOW);
    const fresh: object[] = [];
    for (let i = 1; i <= CALLS; i++) {
      const input = messageInput(i, now, `id-${i}`);
      input.messages!.push({ id: 'dup', data: 'again' });
      const outcome = ch.append(input, now, IDEMPOTENCY_WINDOW);
      assert.equal(outcome.event!.messages!.length, 1, 'the duplicate is left out');
      assert.deepEqual(outcome.serials[1], ch.append(messageInput(9, now, 'dup'), now, IDEMPOTENCY_WINDOW).serials[0]);
      fresh.push(outcome.event!);
    }
    for (const e of fresh.slice(1)) assert.equal(haveSameMap(fresh[0]!, e), true);
    const presence = Array.from({ length: CALLS }, (_, i) =>
      ch.applyPresence(presenceInput(`p${i}`, now), now, CALLS)!,
    );
    for (const e of presence.slice(1)) assert.equal(haveSameMap(presence[0]!, e), true);
  });

  it('holds exactly what { ...input, seq, serial } held (property, fixed seed)', () => {
    const text = fc.string({ maxLength: 8 });
    const input = fc.record(
      {
        kind: fc.constantFrom('message' as const, 'presence' as const, 'annotation' as const),
        id: text,
        connectionId: text,
        timestamp: fc.integer({ min: 0, max: 2 ** 50 }),
        messages: fc.array(fc.record({ data: text }), { maxLength: 2 }),
        presence: fc.array(fc.record({ action: fc.integer({ min: 0, max: 4 }) }), { maxLength: 2 }),
        annotations: fc.array(fc.record({ action: fc.integer({ min: 0, max: 1 }) }), { maxLength: 2 }),
        full: fc.record({ data: text }),
      },
      { requiredKeys: ['kind', 'timestamp'] },
    );
    fc.assert(
      fc.property(input, fc.nat(), text, (raw, seq, serial) => {
        const event = storedEvent(raw, seq, serial);
        const spread = { ...raw, seq, serial };
        assert.deepEqual(event, spread);
        assert.deepEqual(Object.keys(event).sort(), Object.keys(spread).sort());
        for (const key of ['messages', 'presence', 'annotations', 'full'] as const)
          assert.equal(event[key], raw[key], `${key} is the input's own, not a copy`);
      }),
      { seed: SEED, numRuns: 2_000 },
    );
  });
});
