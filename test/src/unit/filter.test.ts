/**
 * Subscription filter expressions: what each documented form selects (table), and that anything
 * else is a clear 40010, never a crash (fuzz, fast-check with a fixed seed).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AblyError } from '@encke/protocol';
import { compileFilter, parseQualifiedName, MAX_FILTER_LENGTH, type FilterInput } from '@encke/server/internal';

const SEED = 20261206;
const ICE: FilterInput = {
  name: 'ice-cream',
  clientId: 'kiosk-1',
  extras: { headers: { flavor: 'strawberry', cost: 35, temp: 3, vegan: false, tag: '' } },
};
const TEA: FilterInput = { name: 'tea', extras: { headers: { flavor: 'earl grey', cost: 60 } } };
const BARE: FilterInput = {};
const ODD: FilterInput = { name: 'x', extras: { headers: ['not', 'an', 'object'] } };

/** expression → which of [ICE, TEA, BARE, ODD] pass. */
const TABLE: [string, [boolean, boolean, boolean, boolean]][] = [
  ['name == `"ice-cream"`', [true, false, false, false]],
  ["name == 'ice-cream'", [true, false, false, false]],
  ['name != `"ice-cream"`', [false, true, true, true]],
  ['headers.flavor == `"strawberry"`', [true, false, false, false]],
  ['headers.cost < `50`', [true, false, false, false]],
  ['headers.cost <= `35`', [true, false, false, false]],
  ['headers.cost > `50`', [false, true, false, false]],
  ['headers.cost >= `35`', [true, true, false, false]],
  ['headers.flavor > `1`', [false, false, false, false]], // ordering is for numbers only
  ['name == `"ice-cream"` && headers.flavor == `"strawberry"` && headers.cost < `50`', [true, false, false, false]],
  ['headers.flavor == `"strawberry"` || headers.flavor == `"earl grey"`', [true, true, false, false]],
  ['!(headers.flavor == `"strawberry"`)', [false, true, true, true]],
  ['!!headers', [true, true, false, false]],
  ['headers', [true, true, false, false]],
  ['headers.vegan', [false, false, false, false]],
  ['headers.vegan == `false`', [true, false, false, false]],
  ['headers.tag', [false, false, false, false]], // "" is falsy
  ['headers.tag == `""`', [true, false, false, false]],
  ['headers.missing == `null`', [true, true, true, true]],
  ['headers."flavor" == `"tea"` || name == `"tea"`', [false, true, false, false]],
  ['clientId == `"kiosk-1"`', [true, false, false, false]],
  ['clientId', [true, false, false, false]],
  ['(name == `"tea"` || name == `"x"`) && !headers.cost', [false, false, false, true]],
  ['name == `"tea"` || name == `"x"` && headers', [false, true, false, false]], // && binds tighter
  ['`true`', [true, true, true, true]],
  ['`0`', [true, true, true, true]], // JMESPath: 0 is truthy
  ['`[]`', [false, false, false, false]],
  ['headers == `{"flavor":"earl grey","cost":60}`', [false, true, false, false]],
  ['name.length', [false, false, false, false]],
  ['  name==`"tea"`  ', [false, true, false, false]],
  ['name > `"a"`', [false, false, false, false]], // strings are not ordered
  ['(headers.cost || `0`) == `35`', [true, false, false, false]], // || yields a value, not a boolean
  ['(headers.vegan && `1`) == `false`', [true, false, false, false]],
  ['headers.constructor || headers.__proto__ || headers.toString', [false, false, false, false]],
];

/** Bad expressions and a word the error must mention. */
const BAD: [string, string][] = [
  ['', 'empty'],
  ['   ', 'empty'],
  ['name ==', 'found end of expression'],
  ['name == `"x"', 'unterminated'],
  ["name == 'x", 'unterminated'],
  ['name == `{bad json}`', 'JSON'],
  ['name = `"x"`', 'unexpected "="'],
  ['name == `1` == `1`', 'chained'],
  ['(name == `1`', 'expected ")"'],
  ['name == `1`)', 'unexpected ")"'],
  ['data == `1`', 'unknown field "data"'],
  ['headers.', 'after "."'],
  ['headers..a', 'after "."'],
  ['name == `1` &&', 'found end of expression'],
  ['&& name', 'found "&&"'],
  ['name # x', 'unexpected "#"'],
  ['"unterminated', 'unterminated'],
  ['"bad\\q" == `1`', 'JSON'],
  ['('.repeat(40) + 'name' + ')'.repeat(40), 'nested deeper'],
  ['!'.repeat(40) + 'name', 'nested deeper'],
  ['name == `"' + 'x'.repeat(MAX_FILTER_LENGTH) + '"`', 'longer than'],
];

function assertFilterError(expression: string, mention: string): void {
  assert.throws(
    () => compileFilter(expression),
    (err: unknown) =>
      err instanceof AblyError && err.code === 40010 && err.statusCode === 400 && err.message.includes(mention),
    `${JSON.stringify(expression.slice(0, 60))} should fail mentioning ${mention}`,
  );
}

describe('subscription filter expressions', () => {
  it('select what the documented grammar says', () => {
    for (const [expression, expected] of TABLE) {
      const filter = compileFilter(expression);
      assert.deepEqual(
        [ICE, TEA, BARE, ODD].map((m) => filter(m)),
        expected,
        expression,
      );
    }
  });

  it('refuse bad expressions with 40010 and say where and why', () => {
    for (const [expression, mention] of BAD) assertFilterError(expression, mention);
    assert.throws(() => compileFilter('name ==  '), /position 9/);
  });

  it('never crash: any text compiles or fails with 40010, and a compiled filter never throws', () => {
    const alphabet = fc.constantFrom(...'nameheadrsclItfo."\'`=!<>&|() 01{}[]:,\\x\u00e9'.split(''));
    const text = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: alphabet, maxLength: 80 }));
    const message = fc.record({
      name: fc.option(fc.string(), { nil: undefined }),
      clientId: fc.option(fc.string(), { nil: undefined }),
      extras: fc.option(fc.dictionary(fc.constantFrom('headers', 'push'), fc.jsonValue()), { nil: undefined }),
    });
    fc.assert(
      fc.property(text, fc.array(message, { maxLength: 4 }), (expression, messages) => {
        let filter: ReturnType<typeof compileFilter>;
        try {
          filter = compileFilter(expression);
        } catch (err) {
          assert.ok(
            err instanceof AblyError && err.code === 40010,
            `unexpected ${String(err)} for ${JSON.stringify(expression)}`,
          );
          return;
        }
        for (const m of messages) assert.equal(typeof filter(m as FilterInput), 'boolean');
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });
});

describe('qualified channel names', () => {
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
  it('split into base, filter and params', () => {
    assert.deepEqual(parseQualifiedName('plain'), { base: 'plain' });
    assert.deepEqual(parseQualifiedName(`[filter=${b64('name == `"a"`')}]room:1`), {
      base: 'room:1',
      filter: 'name == `"a"`',
    });
    assert.deepEqual(parseQualifiedName('[?rewind=1&delta=vcdiff]room'), {
      base: 'room',
      params: { rewind: '1', delta: 'vcdiff' },
    });
    assert.deepEqual(parseQualifiedName(`[filter=${b64('héllo')}?rewind=2]r`), {
      base: 'r',
      filter: 'héllo',
      params: { rewind: '2' },
    });
  });
  it('refuse what cannot be used with 40010', () => {
    const bad = [
      '[meta]log',
      '[filter=***]x',
      '[filter=]x',
      `[filter=${b64('a')}]`,
      '[?rewind=1',
      '[?=1]x',
      `[filter=${Buffer.from([0xff, 0xfe]).toString('base64')}]x`,
      `[filter=${b64('a')}][?x=1]y`,
    ];
    for (const name of bad) {
      assert.throws(
        () => parseQualifiedName(name),
        (e: unknown) => e instanceof AblyError && e.code === 40010,
        name,
      );
    }
  });
});
