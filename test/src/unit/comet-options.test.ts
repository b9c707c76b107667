import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULTS, resolveOptions } from '@encke/server';

describe('comet options', () => {
  it('have defaults', () => {
    const o = resolveOptions();
    assert.equal(o.maxCometBodySize, DEFAULTS.maxCometBodySize);
    assert.equal(o.maxCometQueue, DEFAULTS.maxCometQueue);
    assert.equal(o.maxCometStreamDuration, DEFAULTS.maxCometStreamDuration);
    // Recycled well before ably-js's 90 s recvTimeout.
    assert.ok(o.maxCometStreamDuration < 90_000);
  });

  for (const name of ['maxCometBodySize', 'maxCometQueue', 'maxCometStreamDuration'] as const) {
    it(`reject a non-positive ${name}`, () => {
      assert.throws(() => resolveOptions({ [name]: 0 }), new RegExp(`Option ${name} must be a positive integer`));
    });
  }

  it('reject a comet body limit below maxMessageSize', () => {
    assert.throws(
      () => resolveOptions({ maxMessageSize: 4096, maxCometBodySize: 2048 }),
      /maxMessageSize must not exceed maxCometBodySize/,
    );
  });
});
