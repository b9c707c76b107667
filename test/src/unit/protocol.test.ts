/** The protocol package: codecs, data encoding and validation, against the ably-common fixtures. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  AblyError,
  Action,
  Err,
  PayloadError,
  decodeFrame,
  decodeMsgpack,
  encodeJson,
  encodeMsgpack,
  encodeMsgpackValue,
  normaliseInboundData,
  outboundData,
  parseModes,
  parseProtocolMessage,
  Flag,
  MODE_DEFAULT,
  type ProtocolMessage,
  isArrayValue,
  isPlainObject,
} from '@encke/protocol';
import { objectOf, stringOf } from '../helpers/field.js';
import { isWireMessage, jsonAs, jsonMessage, jsonValue } from '../helpers/json.js';

const fixtures = new URL('../../fixtures/ably-common/', import.meta.url);
/** A fixture file of ably-common, checked by `is` (the test fails saying which file did not fit). */
function load<T>(name: string, is: (value: unknown) => value is T): T {
  return jsonAs(readFileSync(new URL(name, fixtures), 'utf8'), is, `the shape of ${name}`);
}

interface MsgpackCase {
  name: string;
  data: unknown;
  numRepeat: number;
  type: string;
  msgpack: string;
}

const isMsgpackCase = (v: unknown): v is MsgpackCase =>
  isPlainObject(v) &&
  typeof v.name === 'string' &&
  typeof v.numRepeat === 'number' &&
  typeof v.type === 'string' &&
  typeof v.msgpack === 'string';

interface EncodingCase {
  data: string;
  encoding: string | null;
  expectedType: string;
  expectedHexValue?: string;
}

const isEncodingCase = (v: unknown): v is EncodingCase =>
  isPlainObject(v) &&
  typeof v.data === 'string' &&
  (v.encoding === null || typeof v.encoding === 'string') &&
  typeof v.expectedType === 'string' &&
  (v.expectedHexValue === undefined || typeof v.expectedHexValue === 'string');

const arrayOf =
  <T>(is: (v: unknown) => v is T) =>
  (v: unknown): v is T[] =>
    isArrayValue(v) && v.every(is);

describe('msgpack fixtures (ably-common msgpack_test_fixtures.json)', () => {
  const cases = load('msgpack_test_fixtures.json', arrayOf(isMsgpackCase));
  for (const c of cases) {
    it(`decodes and re-encodes "${c.name}"`, () => {
      // The fixtures are publishes without an action: {messages: [{data, encoding}], msgSerial: 0}.
      const decoded = objectOf(decodeMsgpack(Buffer.from(c.msgpack, 'base64')));
      const pm = parseProtocolMessage({ action: Action.MESSAGE, ...decoded });
      const msg = pm.messages![0]!;
      if (c.type === 'string') assert.equal(msg.data, stringOf(c.data).repeat(Math.max(1, c.numRepeat)));
      else if (c.type === 'binary') assert.ok(msg.data instanceof Uint8Array);
      else {
        assert.equal(msg.encoding, 'json');
        assert.deepEqual(jsonValue(stringOf(msg.data)), c.data);
      }
      const again = parseProtocolMessage(decodeMsgpack(encodeMsgpack(pm)));
      assert.deepEqual(again, pm);
    });
  }
});

describe('message encodings (ably-common messages-encoding.json)', () => {
  const { messages } = load(
    'messages-encoding.json',
    (v): v is { messages: EncodingCase[] } => isPlainObject(v) && arrayOf(isEncodingCase)(v.messages),
  );
  for (const m of messages) {
    it(`${m.expectedType} with encoding ${String(m.encoding)} survives JSON → store → JSON and msgpack`, () => {
      const raw = {
        action: Action.MESSAGE,
        channel: 'c',
        msgSerial: 0,
        messages: [{ data: m.data, ...(m.encoding ? { encoding: m.encoding } : {}) }],
      };
      const pm = parseProtocolMessage(jsonValue(JSON.stringify(raw)));
      const stored = pm.messages![0]!;
      if (m.expectedType === 'binary') {
        // Stored as bytes, the base64 step removed.
        assert.ok(stored.data instanceof Uint8Array);
        assert.equal(Buffer.from(stored.data).toString('hex'), m.expectedHexValue);
        assert.equal(stored.encoding, undefined);
      }
      const viaJson = jsonMessage(encodeJson(pm));
      assert.equal(viaJson.messages![0]!.data, m.data);
      assert.equal(viaJson.messages![0]!.encoding, m.encoding ?? undefined);
      const viaMsgpack = decodeMsgpack(encodeMsgpack(pm));
      assert.ok(isWireMessage(viaMsgpack), 'a protocol message');
      if (m.expectedType === 'binary') assert.ok(viaMsgpack.messages![0]!.data instanceof Uint8Array);
      else assert.equal(viaMsgpack.messages![0]!.data, m.data);
    });
  }
});

describe('data encoding', () => {
  it('strips a trailing base64 step into bytes and restores it for JSON', () => {
    const item = normaliseInboundData<{ data?: string | Uint8Array; encoding?: string }>({
      data: Buffer.from('héllo').toString('base64'),
      encoding: 'utf-8/base64',
    });
    assert.ok(item.data instanceof Uint8Array);
    assert.equal(item.encoding, 'utf-8');
    assert.deepEqual(outboundData(item.data, item.encoding, 'json'), {
      data: Buffer.from('héllo').toString('base64'),
      encoding: 'utf-8/base64',
    });
    assert.deepEqual(outboundData(item.data, item.encoding, 'msgpack'), { data: item.data, encoding: 'utf-8' });
  });

  it('copies msgpack binaries so that they do not pin the frame', () => {
    const frame = new Uint8Array([1, 2, 3, 4]);
    const view = frame.subarray(1, 3);
    const item = normaliseInboundData({ data: view });
    assert.notEqual((item.data as Uint8Array).buffer, frame.buffer);
    assert.deepEqual([...(item.data as Uint8Array)], [2, 3]);
  });

  it('rejects invalid base64 with 40013', () => {
    for (const bad of ['abc', '!!!!', 'ab=c']) {
      assert.throws(
        () => normaliseInboundData({ data: bad, encoding: 'base64' }),
        (e: AblyError) => e.code === Err.invalidDataOrEncoding.code,
      );
    }
  });

  it('writes bytes as base64 in JSON and as bin in msgpack', () => {
    const pm: ProtocolMessage = { action: Action.MESSAGE, messages: [{ data: new Uint8Array([0xde, 0xad]) }] };
    assert.deepEqual(jsonValue(encodeJson(pm)), {
      action: Action.MESSAGE,
      messages: [{ data: '3q0=', encoding: 'base64' }],
    });
    const bytes = encodeMsgpack(pm);
    assert.ok(Buffer.from(bytes).includes(Buffer.from([0xc4, 0x02, 0xde, 0xad])), 'bin8 of 2 bytes');
    // The stored message is untouched by JSON encoding.
    assert.ok(pm.messages![0]!.data instanceof Uint8Array);
  });
});

describe('validation', () => {
  it('drops unknown fields and keeps known ones', () => {
    const pm = parseProtocolMessage({
      action: 15,
      channel: 'c',
      msgSerial: 3,
      extra: 1,
      messages: [{ name: 'n', data: 'd', size: 5, action: 0, future: true }],
    });
    assert.deepEqual(pm, { action: 15, channel: 'c', msgSerial: 3, messages: [{ name: 'n', data: 'd', action: 0 }] });
  });

  it('stringifies non-string attach params (ably-js passes channelOptions.params unchanged)', () => {
    assert.deepEqual(parseProtocolMessage({ action: 10, channel: 'c', params: { rewind: 1, x: true } }).params, {
      rewind: '1',
      x: 'true',
    });
  });

  it('treats null as absent', () => {
    assert.deepEqual(parseProtocolMessage({ action: 10, channel: 'c', channelSerial: null, flags: null }), {
      action: 10,
      channel: 'c',
    });
  });

  it('reports payload errors with the envelope, so the publish can be NACKed', () => {
    try {
      parseProtocolMessage({ action: 15, channel: 'c', msgSerial: 7, messages: [{ data: 1 }] });
      assert.fail('no error');
    } catch (err) {
      assert.ok(err instanceof PayloadError);
      assert.equal(err.envelope.msgSerial, 7);
      assert.equal(err.code, Err.invalidDataOrEncoding.code);
    }
  });

  it('names the bad item in a payload error, past the names made once too', () => {
    const good = { data: 'x' };
    const rows: [key: string, items: unknown[], message: string][] = [
      ['messages', [{ data: 1 }], 'messages[0].data must be a string'],
      ['messages', [good, good, { name: 3 }], 'messages[2].name must be a string'],
      ['messages', [...Array<unknown>(7).fill(good), { id: 1 }], 'messages[7].id must be a string'],
      ['messages', [...Array<unknown>(8).fill(good), { data: 1 }], 'messages[8].data must be a string'],
      ['messages', [...Array<unknown>(12).fill(good), 5], 'messages[12] must be an object'],
      ['presence', [{ action: 2 }, { clientId: 'c' }], 'presence[1].action is required'],
      ['presence', [...Array<unknown>(9).fill({ action: 2 }), { action: 'x' }], 'presence[9].action must be'],
      ['annotations', [{ type: 1 }], 'annotations[0].type must be a string'],
      [
        'annotations',
        [...Array<unknown>(10).fill({ type: 't' }), { type: 1 }],
        'annotations[10].type must be a string',
      ],
    ];
    for (const [key, items, message] of rows) {
      assert.throws(
        () => parseProtocolMessage({ action: 15, channel: 'c', msgSerial: 1, [key]: items }),
        (err: unknown) => err instanceof PayloadError && err.message.startsWith(message),
        `${key} x${items.length}: ${message}`,
      );
    }
  });

  it('decodes the ext-0 undefined of ably msgpack-js non-sparse encoding', () => {
    // {"action": 0, "id": <ext 0>}
    const bytes = Buffer.concat([
      Buffer.from([0x82, 0xa6]),
      Buffer.from('action'),
      Buffer.from([0x00, 0xa2]),
      Buffer.from('id'),
      Buffer.from([0xd4, 0x00, 0x00]),
    ]);
    assert.deepEqual(parseProtocolMessage(decodeFrame(bytes, 'msgpack')), { action: 0 });
  });

  it('refuses msgpack in a text frame and JSON garbage', () => {
    assert.throws(() => decodeFrame('{}', 'msgpack'), AblyError);
    assert.throws(() => decodeFrame('{', 'json'), AblyError);
    assert.throws(() => decodeMsgpack(Buffer.from([0xc1])), AblyError);
  });

  it('keeps msgpack str and bin distinct', () => {
    const decoded = objectOf(decodeMsgpack(encodeMsgpackValue({ s: 'abc', b: new Uint8Array([97, 98, 99]) })));
    assert.equal(decoded.s, 'abc');
    assert.ok(decoded.b instanceof Uint8Array);
  });
});

describe('channel modes', () => {
  it('parses mode lists and rejects unknown modes', () => {
    assert.equal(parseModes('subscribe'), Flag.SUBSCRIBE);
    assert.equal(parseModes('presence, SUBSCRIBE'), Flag.PRESENCE | Flag.SUBSCRIBE);
    assert.equal(parseModes('everything'), undefined);
    assert.equal(MODE_DEFAULT, 3080192);
  });
});
