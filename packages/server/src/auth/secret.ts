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
 * Compares a secret whose length is public (a connection key: fixed format) in constant time for
 * that length, without hashing: the hot path of every comet request and resume.
 */
export function sameLengthSecretsEqual(given: string, expected: string): boolean {
  if (given.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < given.length; i++) diff |= given.charCodeAt(i) ^ expected.charCodeAt(i);
  return diff === 0;
}
