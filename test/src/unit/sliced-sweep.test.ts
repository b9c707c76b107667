/**
 * The heartbeat pass spread over its period (issue 19): every item is visited once a period, a
 * slice at a time, never all in one timer firing; items come and go during a round.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SlicedSweep, slicesFor } from '@encke/server/internal';

/** Runs `firings` steps; returns how many items each firing visited and how often each item was visited. */
function drive(
  items: Map<string, number>,
  slices: number,
  firings: number,
  between?: (firing: number) => void,
): { perFiring: number[]; visits: Map<string, number> } {
  const visits = new Map<string, number>();
  let visited = 0;
  const sweep = new SlicedSweep(items, slices, (v: number) => {
    visited++;
    visits.set(String(v), (visits.get(String(v)) ?? 0) + 1);
  });
  const perFiring: number[] = [];
  for (let f = 1; f <= firings; f++) {
    between?.(f);
    visited = 0;
    sweep.step();
    perFiring.push(visited);
  }
  return { perFiring, visits };
}

function collection(n: number): Map<string, number> {
  return new Map(Array.from({ length: n }, (_, i) => [String(i), i]));
}

describe('SlicedSweep', () => {
  const cases: { n: number; slices: number; most: number }[] = [
    { n: 1000, slices: 20, most: 50 },
    { n: 1001, slices: 20, most: 51 },
    { n: 7, slices: 20, most: 1 },
    { n: 1, slices: 20, most: 1 },
    { n: 0, slices: 20, most: 0 },
    { n: 10, slices: 1, most: 10 },
  ];
  for (const { n, slices, most } of cases) {
    it(`${n} items over ${slices} slices: each visited once a period, at most ${most} per firing`, () => {
      // Rounds start at the end of each period (firings slices, 2·slices, 3·slices); the third ends at 4·slices − 1.
      const { perFiring, visits } = drive(collection(n), slices, 4 * slices - 1);
      assert.ok(Math.max(...perFiring) <= most, `at most ${most} per firing, got ${Math.max(...perFiring)}`);
      assert.equal(visits.size, n);
      for (const [item, count] of visits) assert.equal(count, 3, `item ${item} visited once per period`);
      assert.deepEqual(
        perFiring.slice(0, slices - 1),
        new Array(slices - 1).fill(0),
        'nothing before the first period ends',
      );
    });
  }

  it('visits an item added during a round, and skips one removed before its turn', () => {
    const items = collection(100);
    const { visits } = drive(items, 10, 20, (firing) => {
      if (firing === 12) {
        items.set('new', 100);
        items.delete('99');
      }
    });
    assert.equal(visits.get('100'), 1, 'the item added mid-round is visited in that round');
    assert.equal(visits.get('99'), undefined, 'the item removed before its turn is skipped');
    assert.equal(visits.get('0'), 2);
  });

  it('cuts a period into at most 20 slices, each at least 50 ms', () => {
    assert.deepEqual([5000, 1000, 500, 120, 50, 10].map(slicesFor), [20, 20, 10, 2, 1, 1]);
  });
});
