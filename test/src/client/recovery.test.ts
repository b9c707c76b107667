/**
 * The client's recovery key parser (RTN16g): a key it made comes back as it was; anything else
 * (not JSON, not an object, a field of the wrong type, channelSerials that are not an object of
 * strings) is ignored, so the client connects clean (RTN16f) instead of throwing or attaching
 * channels named by the characters of a string.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRecoveryKey } from '@encke/client/internal/connection/recovery';

describe('client recovery key', () => {
  it('reads a key back as it was made', () => {
    const key = { connectionKey: 'k!1', msgSerial: 7, channelSerials: { a: 's1', 'b c': 's2' } };
    assert.deepEqual(parseRecoveryKey(JSON.stringify(key)), key);
  });

  it('a key without channelSerials has none', () => {
    assert.deepEqual(parseRecoveryKey('{"connectionKey":"k","msgSerial":0}'), {
      connectionKey: 'k',
      msgSerial: 0,
      channelSerials: {},
    });
  });

  const unreadable: [string, string][] = [
    ['not JSON', '{"connectionKey":'],
    ['null', 'null'],
    ['a number', '5'],
    ['a string', '"k"'],
    ['an array', '["k", 0]'],
    ['no connectionKey', '{"msgSerial":0}'],
    ['a numeric connectionKey', '{"connectionKey":1,"msgSerial":0}'],
    ['no msgSerial', '{"connectionKey":"k"}'],
    ['a string msgSerial', '{"connectionKey":"k","msgSerial":"0"}'],
    ['channelSerials null', '{"connectionKey":"k","msgSerial":0,"channelSerials":null}'],
    ['channelSerials a string', '{"connectionKey":"k","msgSerial":0,"channelSerials":"ab"}'],
    ['a numeric channel serial', '{"connectionKey":"k","msgSerial":0,"channelSerials":{"a":"s","b":5}}'],
  ];
  for (const [what, text] of unreadable) {
    it(`ignores a key that is ${what}`, () => {
      assert.equal(parseRecoveryKey(text), undefined);
    });
  }
});
