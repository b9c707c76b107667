import { hash, timingSafeEqual } from 'node:crypto';

/**
 * Compares two secrets in constant time. Both are hashed first so that neither the content nor the
 * length of the expected secret leaks through timing.
 */
export function secretsEqual(given: string, expected: string): boolean {
  return matchesDigest(given, secretDigest(expected));
}

/** The digest a secret is compared by; compute it once for a secret that is checked often. */
export function secretDigest(secret: string): Buffer {
  return hash('sha256', secret, 'buffer');
}

/** Whether `given` is the secret whose digest is `expected`, in constant time. */
export function matchesDigest(given: string, expected: Buffer): boolean {
  return timingSafeEqual(secretDigest(given), expected);
}

/**
 * Whether `given` is the secret `expected`, in time that depends only on the length of `given`
 * (which its sender knows): every character of `given` is compared, with `expected` read
 * cyclically, and the lengths are compared without a branch, so neither the content nor the
 * length of `expected` shows in the timing. No digest: an API key is checked on every open, and
 * hashing it was the larger part of verifying it (bench/README, "open rate").
 */
export function secretMatches(given: string, expected: string): boolean {
  const n = given.length;
  const m = expected.length;
  let diff = n ^ m;
  // An empty `expected` reads NaN (as 0): only an empty `given` then matches, as it should.
  for (let i = 0; i < n; i++) diff |= given.charCodeAt(i) ^ expected.charCodeAt(i % m);
  return diff === 0;
}

/**
 * Compares a secret whose length is public (a connection key: fixed format) in constant time for
 * that length, without hashing: the hot path of every comet request and resume.
 */
export function sameLengthSecretsEqual(given: string, expected: string): boolean {
  if (given.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < given.length; i++) diff |= given.charCodeAt(i) ^ expected.charCodeAt(i);
  return diff === 0;
}
