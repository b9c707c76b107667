/**
 * Annotation summaries: each documented method (total, flag, distinct, unique, multiple) as a
 * table of annotations → summary, invariants over random sequences (fast-check, fixed seed), and
 * the 40003/40161 refusals.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AblyError } from '@encke/protocol';
import {
  AnnotationAction,
  applyAnnotation,
  MAX_SUMMARY_CLIENT_IDS,
  type AnnotationInput,
  type Summary,
} from '@encke/server/internal';

const SEED = 20261206;
const C = AnnotationAction.CREATE;
const D = AnnotationAction.DELETE;

function run(annotations: AnnotationInput[]): Summary {
  return annotations.reduce<Summary>((s, a) => applyAnnotation(s, a), {});
}

describe('annotation summaries', () => {
  it('total.v1 counts creates minus deletes, identified or not', () => {
    const t = 'metrics:total.v1';
    assert.deepEqual(
      run([
        { action: C, type: t },
        { action: C, type: t, clientId: 'a' },
        { action: C, type: t },
        { action: D, type: t },
      ]),
      { [t]: { total: 2 } },
    );
  });

  it('flag.v1 counts each client once', () => {
    const t = 'receipts:flag.v1';
    const s = run([
      { action: C, type: t, clientId: 'a' },
      { action: C, type: t, clientId: 'b' },
      { action: C, type: t, clientId: 'a' },
      { action: D, type: t, clientId: 'b' },
      { action: D, type: t, clientId: 'z' },
    ]);
    assert.deepEqual(s, { [t]: { total: 1, clientIds: ['a'], clipped: false } });
  });

  it('distinct.v1 counts each client once per name; a name nobody holds goes', () => {
    const t = 'reactions:distinct.v1';
    const s = run([
      { action: C, type: t, clientId: 'a', name: '👍' },
      { action: C, type: t, clientId: 'a', name: '❤️' },
      { action: C, type: t, clientId: 'b', name: '👍' },
      { action: C, type: t, clientId: 'b', name: '👍' },
      { action: C, type: t, clientId: 'c', name: '😂' },
      { action: D, type: t, clientId: 'c', name: '😂' },
    ]);
    assert.deepEqual(s, {
      [t]: {
        '👍': { total: 2, clientIds: ['a', 'b'], clipped: false },
        '❤️': { total: 1, clientIds: ['a'], clipped: false },
      },
    });
  });

  it('unique.v1 moves a client to the name it chose last', () => {
    const t = 'status:unique.v1';
    const s = run([
      { action: C, type: t, clientId: 'a', name: 'important' },
      { action: C, type: t, clientId: 'b', name: 'important' },
      { action: C, type: t, clientId: 'a', name: 'urgent' },
    ]);
    assert.deepEqual(s, {
      [t]: {
        important: { total: 1, clientIds: ['b'], clipped: false },
        urgent: { total: 1, clientIds: ['a'], clipped: false },
      },
    });
  });

  it("multiple.v1 adds counts per client and unidentified; a delete removes that client's contribution", () => {
    const t = 'voting:multiple.v1';
    const s = run([
      { action: C, type: t, clientId: 'a', name: 'x', count: 3 },
      { action: C, type: t, clientId: 'b', name: 'x', count: 2 },
      { action: C, type: t, name: 'x', count: 2 },
      { action: C, type: t, clientId: 'a', name: 'x' },
      { action: C, type: t, clientId: 'a', name: 'y' },
      { action: D, type: t, clientId: 'b', name: 'x' },
    ]);
    assert.deepEqual(s, {
      [t]: {
        x: { total: 6, clientIds: { a: 4 }, totalUnidentified: 2, totalClientIds: 1, clipped: false },
        y: { total: 1, clientIds: { a: 1 }, totalUnidentified: 0, totalClientIds: 1, clipped: false },
      },
    });
  });

  it('keeps counts exact past the listed client ids, marked clipped', () => {
    const t = 'receipts:flag.v1';
    const many = Array.from({ length: MAX_SUMMARY_CLIENT_IDS + 5 }, (_, i) => ({
      action: C,
      type: t,
      clientId: `c${i}`,
    }));
    const entry = run(many)[t] as { total: number; clientIds: string[]; clipped: boolean };
    assert.equal(entry.total, MAX_SUMMARY_CLIENT_IDS + 5);
    assert.equal(entry.clientIds.length, MAX_SUMMARY_CLIENT_IDS);
    assert.equal(entry.clipped, true);
  });

  it('refuses annotations that cannot be summarised', () => {
    const bad: [AnnotationInput, number][] = [
      [{ action: C, type: 'reactions' }, 40003],
      [{ action: C, type: 'reactions:sum.v1' }, 40003],
      [{ action: C, type: 'reactions:flag.v2', clientId: 'a' }, 40003],
      [{ action: 7, type: 'r:total.v1' }, 40003],
      [{ action: C, type: 'r:flag.v1' }, 40161],
      [{ action: C, type: 'r:distinct.v1', clientId: 'a' }, 40003],
      [{ action: C, type: 'r:multiple.v1', name: 'x', count: 0 }, 40003],
      [{ action: C, type: 'r:multiple.v1', name: 'x', count: 1.5 }, 40003],
      [{ action: C, type: 'r:flag.v1', clientId: 'a', count: 2 }, 40003],
    ];
    for (const [a, code] of bad)
      assert.throws(
        () => applyAnnotation({}, a),
        (e: unknown) => e instanceof AblyError && e.code === code,
        JSON.stringify(a),
      );
  });

  it('keep their invariants over any sequence', () => {
    const annotation = fc.record({
      action: fc.constantFrom(C, D),
      type: fc.constantFrom('r:total.v1', 'r:flag.v1', 'r:distinct.v1', 'r:unique.v1', 'r:multiple.v1'),
      name: fc.constantFrom('x', 'y', 'z'),
      clientId: fc.option(fc.constantFrom('a', 'b', 'c', 'd'), { nil: undefined }),
      count: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(annotation, { maxLength: 60 }), (items) => {
        let s: Summary = {};
        for (const a of items) {
          try {
            s = applyAnnotation(s, a);
          } catch (e) {
            assert.ok(e instanceof AblyError && (e.code === 40003 || e.code === 40161), String(e));
          }
        }
        for (const [type, entry] of Object.entries(s)) {
          if (type === 'r:total.v1') assert.ok((entry as { total: number }).total >= 0);
          else if (type === 'r:flag.v1') {
            const e = entry as { total: number; clientIds: string[] };
            assert.equal(e.total, e.clientIds.length);
          } else if (type === 'r:multiple.v1') {
            for (const e of Object.values(
              entry as Record<
                string,
                { total: number; clientIds: Record<string, number>; totalUnidentified: number; totalClientIds: number }
              >,
            )) {
              assert.equal(e.total, Object.values(e.clientIds).reduce((x, y) => x + y, 0) + e.totalUnidentified);
              assert.equal(e.totalClientIds, Object.keys(e.clientIds).length);
              assert.ok(e.total > 0);
            }
          } else {
            const names = entry as Record<string, { total: number; clientIds: string[] }>;
            const seen = new Set<string>();
            for (const e of Object.values(names)) {
              assert.equal(e.total, e.clientIds.length);
              assert.ok(e.total > 0);
              if (type === 'r:unique.v1')
                for (const c of e.clientIds) (assert.ok(!seen.has(c), 'a client under two names'), seen.add(c));
            }
          }
        }
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});
