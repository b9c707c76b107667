/**
 * An API key's secret is compared without a digest (auth/secret.ts `secretMatches`): it matches
 * exactly the same string, whatever the two lengths (fast-check, fixed seed), and a secret read
 * cyclically is never fooled by a repetition, a prefix or an extension of the right one. The
 * whole check, with its 40101 for a wrong secret or an unknown key, through a real server:
 * auth-bad-input and scenarios/realtime.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { secretMatches } from '@encke/server/internal';

const SEED = 19_064;

/** A secret and something close to it: itself, a prefix, an extension, a repetition, one character changed. */
const pair = fc
  .tuple(
    fc.string({ maxLength: 48 }),
    fc.string({ unit: 'binary', maxLength: 4 }),
    fc.nat(),
    fc.constantFrom('same', 'prefix', 'extended', 'repeated', 'changed', 'other'),
  )
  .map(([secret, extra, at, how]): [string, string] => {
    if (how === 'same') return [secret, secret];
    if (how === 'prefix') return [secret.slice(0, at % (secret.length + 1)), secret];
    if (how === 'extended') return [secret + extra, secret];
    if (how === 'repeated') return [secret.repeat(2 + (at % 3)), secret];
    if (how === 'changed' && secret.length > 0) {
      const i = at % secret.length;
      return [
        secret.slice(0, i) + String.fromCharCode(secret.charCodeAt(i) ^ (1 + (at % 255))) + secret.slice(i + 1),
        secret,
      ];
    }
    return [extra, secret];
  });

describe('API key secrets', () => {
  it('match exactly the same string', () => {
    fc.assert(
      fc.property(pair, ([given, expected]) => {
        assert.equal(secretMatches(given, expected), given === expected);
        assert.equal(secretMatches(expected, given), given === expected);
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  const table: [string, string, string, boolean][] = [
    ['the right secret', 'full-secret-0001', 'full-secret-0001', true],
    ['the right secret twice (read cyclically)', 'full-secret-0001full-secret-0001', 'full-secret-0001', false],
    ['a prefix', 'full-secret-000', 'full-secret-0001', false],
    ['one character more', 'full-secret-00011', 'full-secret-0001', false],
    ['the last character wrong', 'full-secret-0002', 'full-secret-0001', false],
    ['nothing', '', 'full-secret-0001', false],
    ['a character past Latin-1', 'full-secret-000\u0131', 'full-secret-0001', false],
    ['empty against empty', '', '', true],
    ['something against empty', 'x', '', false],
  ];
  for (const [name, given, expected, want] of table)
    it(`${name}: ${want ? 'matches' : 'does not match'}`, () => assert.equal(secretMatches(given, expected), want));
});
