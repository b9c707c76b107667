/**
 * Times that many long-lived objects keep (one or two per connection or channel), stored as ms
 * since this process started instead of since 1970: such a number is a small integer (a V8 Smi,
 * held in the object's field itself), where an epoch time (~1.7e12) is a 16-byte heap number of
 * its own for every object (bench S3). Differences are the same either way. (Past ~24 days of
 * uptime, or with a test's fake clock, the values are heap numbers again: the same values, only
 * boxed.)
 */
const ORIGIN = Date.now();

/** `t` (ms since 1970, a clock's `now()`) as ms since the process started. */
export function compactTime(t: number): number {
  // Math.floor, not the bare difference: V8 returns a whole number from it as a Smi, where a
  // subtraction of two heap numbers is a heap number even when whole (and a field that once held
  // one holds every later value boxed).
  return Math.floor(t - ORIGIN);
}
