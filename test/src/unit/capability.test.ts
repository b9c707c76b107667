/** Capability parsing, resource matching and intersection (Ably capability rules). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AblyError, Flag } from '@encke/protocol';
import { capability } from '@encke/server/internal';

const { OPERATIONS, parseCapability, resourceMatches, allows, allowedModes, intersectCapabilities, capabilityToJson } =
  capability;

describe('resource matching', () => {
  const table: [resource: string, channel: string, matches: boolean][] = [
    ['*', 'room', true],
    ['*', 'ns:room', true],
    ['*', 'a:b:c', true],
    ['*', '[meta]log', false],
    ['room', 'room', true],
    ['room', 'room2', false],
    ['foo*', 'foobar', false],
    ['foo*', 'foo*', true],
    ['ns:*', 'ns:a', true],
    ['ns:*', 'ns:a:b', true],
    ['ns:*', 'ns', false],
    ['ns:*', 'other:a', false],
    ['foo:*:baz', 'foo:bar:baz', true],
    ['foo:*:baz', 'foo:bar:qux:baz', false],
    ['foo:*:baz', 'foo:bar:qux', false],
    ['[meta]*', '[meta]log', true],
    ['[meta]*', 'room', false],
    ['[*]*', '[meta]log', true],
    ['[*]*', 'room', true],
    ['room', '[?rewind=1]room', true],
  ];
  for (const [resource, channel, expected] of table) {
    it(`${resource} ${expected ? 'matches' : 'does not match'} ${channel}`, () => {
      assert.equal(resourceMatches(resource, channel), expected);
    });
  }
});

describe('operations and modes', () => {
  const cap = parseCapability({ 'chat:*': ['subscribe', 'presence'], news: ['publish'], admin: ['*'] });
  it('checks operations per channel', () => {
    assert.equal(allows(cap, 'chat:1', 'subscribe'), true);
    assert.equal(allows(cap, 'chat:1', 'publish'), false);
    assert.equal(allows(cap, 'news', 'publish'), true);
    assert.equal(allows(cap, 'admin', 'history'), true);
    assert.equal(allows(cap, 'other', 'subscribe'), false);
  });
  it('derives mode flags: subscribe also grants presence subscribe', () => {
    assert.equal(allowedModes(cap, 'chat:1'), Flag.SUBSCRIBE | Flag.PRESENCE_SUBSCRIBE | Flag.PRESENCE);
    assert.equal(allowedModes(cap, 'news'), Flag.PUBLISH);
    assert.equal(allowedModes(cap, 'other'), 0);
    assert.equal(allowedModes(cap, 'admin'), ALL_MODES);
  });
  it('grants exactly the modes of the operations allowed on the channel (property, against `allows`)', () => {
    const resource = fc.constantFrom('*', 'chat:*', 'chat:1', 'news', '[meta]*', '[*]*', 'a:*:c', '[meta]log');
    const op = fc.constantFrom(...OPERATIONS, '*');
    const name = fc.constantFrom('chat:1', 'chat:2:x', 'news', '[meta]log', 'a:b:c', 'other', '[?rewind=1]news');
    const caps = fc.dictionary(resource, fc.uniqueArray(op, { minLength: 1, maxLength: 5 }), { maxKeys: 4 });
    fc.assert(
      fc.property(caps, name, (json, channel) => {
        const c = parseCapability(json);
        // The reference: each mode from the operation that grants it, as `allows` answers for it.
        let expected = 0;
        if (allows(c, channel, 'presence')) expected |= Flag.PRESENCE;
        if (allows(c, channel, 'publish')) expected |= Flag.PUBLISH;
        if (allows(c, channel, 'subscribe')) expected |= Flag.SUBSCRIBE | Flag.PRESENCE_SUBSCRIBE;
        if (allows(c, channel, 'annotation-publish')) expected |= Flag.ANNOTATION_PUBLISH;
        if (allows(c, channel, 'annotation-subscribe')) expected |= Flag.ANNOTATION_SUBSCRIBE;
        if (allows(c, channel, 'object-subscribe')) expected |= Flag.OBJECT_SUBSCRIBE;
        if (allows(c, channel, 'object-publish')) expected |= Flag.OBJECT_PUBLISH;
        assert.equal(allowedModes(c, channel), expected, `${JSON.stringify(json)} on ${channel}`);
      }),
      { seed: 19_061, numRuns: 2000 },
    );
  });
});

const ALL_MODES =
  Flag.PRESENCE |
  Flag.PUBLISH |
  Flag.SUBSCRIBE |
  Flag.PRESENCE_SUBSCRIBE |
  Flag.ANNOTATION_PUBLISH |
  Flag.ANNOTATION_SUBSCRIBE |
  Flag.OBJECT_SUBSCRIBE |
  Flag.OBJECT_PUBLISH;

describe('parsing', () => {
  const bad: [string, unknown][] = [
    ['not JSON', '{'],
    ['an array', '["*","publish"]'],
    ['an empty op list', '{"a":[]}'],
    ['an unknown op', '{"channel0":["publish_"]}'],
    ['ops that are not an array', '{"a":"publish"}'],
    ['a non-string op', '{"a":[1]}'],
    ['null', 'null'],
    ['a huge string', JSON.stringify({ a: ['publish'], pad: ['subscribe'], x: 'y'.repeat(20_000) })],
  ];
  for (const [name, input] of bad) {
    it(`rejects ${name}`, () => {
      assert.throws(
        () => parseCapability(input),
        (e: AblyError) => e instanceof AblyError && e.statusCode === 400,
      );
    });
  }
  it('renders canonical JSON (sorted resources and operations)', () => {
    assert.equal(
      capabilityToJson(parseCapability('{"b":["subscribe","publish"],"a":["*"]}')),
      '{"a":["*"],"b":["publish","subscribe"]}',
    );
  });
});

describe('intersection (token capability within key capability)', () => {
  const cases: [key: string, requested: string, expected: string][] = [
    ['{"channel2":["publish","subscribe"]}', '{"channel2":["*"]}', '{"channel2":["publish","subscribe"]}'],
    ['{"channel6":["*"]}', '{"channel6":["publish","subscribe"]}', '{"channel6":["publish","subscribe"]}'],
    ['{"*":["subscribe"]}', '{"cansubscribe:*":["subscribe"]}', '{"cansubscribe:*":["subscribe"]}'],
    ['{"*":["*"]}', '{"a":["publish"],"b:*":["*"]}', '{"a":["publish"],"b:*":["*"]}'],
    ['{"ns:*":["subscribe"]}', '{"*":["subscribe","publish"]}', '{"ns:*":["subscribe"]}'],
    ['{"a":["publish"]}', '{"b":["publish"]}', '{}'],
    ['{"a":["publish"]}', '{"a":["subscribe"]}', '{}'],
  ];
  for (const [key, requested, expected] of cases) {
    it(`${key} ∩ ${requested} = ${expected}`, () => {
      assert.equal(capabilityToJson(intersectCapabilities(parseCapability(key), parseCapability(requested))), expected);
    });
  }
});
