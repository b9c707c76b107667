import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULTS, resolveOptions, type ServerOptions } from '@encke/server';

describe('server options', () => {
  it('an option given as undefined takes its default, as if it were not given', () => {
    const given: ServerOptions = { port: undefined, host: undefined, maxCometQueue: undefined, sandbox: undefined };
    const o = resolveOptions(given);
    assert.equal(o.port, DEFAULTS.port);
    assert.equal(o.host, DEFAULTS.host);
    assert.equal(o.maxCometQueue, DEFAULTS.maxCometQueue);
    assert.equal(o.sandbox, DEFAULTS.sandbox);
    assert.ok(o.logger, 'the default logger');
    assert.deepEqual(
      Object.keys(given),
      ['port', 'host', 'maxCometQueue', 'sandbox'],
      'the options given are left as they were',
    );
  });

  it('a given option wins over its default', () => {
    const o = resolveOptions({ port: 0, maxCometQueue: 7, host: '::1' });
    assert.deepEqual([o.port, o.maxCometQueue, o.host], [0, 7, '::1']);
  });
});
