/** Capability parsing, resource matching and intersection (Ably capability rules). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AblyError, Flag } from '@encke/protocol';
import { capability } from '@encke/server/internal';

const { parseCapability, resourceMatches, allows, allowedModes, intersectCapabilities, capabilityToJson } = capability;

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
  });
});

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
