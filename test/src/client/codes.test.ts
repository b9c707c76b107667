/** The client's restated error codes match the protocol registry, entry for entry. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Err as Registry } from '@encke/protocol';
import { Err as ClientCodes } from '../../../packages/client/dist/codes.js';

it('every code the client raises is the registry entry of the same name (code and status)', () => {
  for (const [name, def] of Object.entries(ClientCodes)) {
    const entry = (Registry as Record<string, { code: number; statusCode: number }>)[name];
    assert.ok(entry, `${name} is not in the protocol registry`);
    assert.deepEqual([def.code, def.statusCode], [entry.code, entry.statusCode], name);
  }
});
