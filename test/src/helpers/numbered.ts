/** Checks on numbered message streams (continuity tests): 0..count-1, each exactly once, in order. */
import assert from 'node:assert/strict';

/** Asserts `numbers` is 0..count-1 exactly once, in order, saying what is missing or out of place. */
export function assertExactlyOnceInOrder(numbers: number[], count: number, who: string): void {
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !numbers.includes(i));
  assert.deepEqual(missing, [], `${who}: missing ${missing.length}: ${missing.slice(0, 20).join(',')}`);
  const bad = numbers.findIndex((n, i) => n !== i);
  assert.equal(
    bad,
    -1,
    `${who}: position ${bad} has ${numbers[bad]} (around: ${numbers.slice(Math.max(0, bad - 3), bad + 3).join(',')})`,
  );
  assert.equal(numbers.length, count, `${who}: ${numbers.length} messages`);
}
