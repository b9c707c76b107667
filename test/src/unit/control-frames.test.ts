/**
 * CONNECTED and ATTACHED from their templates (session/connected-frame.ts, attached-frame.ts,
 * wire/msgpack-text.ts) are byte for byte what the encoders make of the messages, in JSON and
 * msgpack, whatever the ids, keys, clientIds, limits, channel names, flags and serials (fast-check,
 * fixed seed): a client cannot tell a templated frame from an encoded one. That holds for the
 * WebSocket frame the transport writes too (a template's is latin1 text, no Buffer: wire/frame.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Action, decodeMsgpack, encodeJson, encodeMsgpack, type Format, type ProtocolMessage } from '@encke/protocol';
import { resolveOptions, type ServerOptions } from '@encke/server';
import {
  attachedFrame,
  connectedFrame,
  connectedMessage,
  formatConnectionKey,
  hasConnectedTemplate,
  wsFrame,
  WS_OPCODE_BINARY,
  WS_OPCODE_TEXT,
  type OutboundFrame,
} from '@encke/server/internal';

const SEED = 19_060;
const FORMATS: readonly Format[] = ['json', 'msgpack'];

/** Connection ids and secrets as the server makes them, and strings of every msgpack str size class. */
const idChars = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');
const connectionId = fc.string({ unit: idChars, minLength: 12, maxLength: 12 });
const secret = fc.string({ unit: idChars, minLength: 16, maxLength: 16 });
const clientId = fc.option(
  fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ minLength: 200, maxLength: 300 }),
    fc.string({ minLength: 70_000, maxLength: 70_010 }),
  ),
  { nil: undefined },
);
/** Node options that appear in CONNECTED (maxMessageSize within the frame and body limits, as resolveOptions requires). */
const options = fc
  .record({
    maxFrameSize: fc.integer({ min: 1, max: 2 ** 31 }),
    maxInboundRate: fc.integer({ min: 1, max: 100_000 }),
    connectionStateTtl: fc.integer({ min: 1, max: 2 ** 40 }),
    maxIdleInterval: fc.integer({ min: 1_000, max: 2 ** 31 }),
    serverId: fc.oneof(
      fc.string({ minLength: 1, maxLength: 40 }),
      fc.string({ minLength: 300, maxLength: 310 }),
      // Not ASCII: the JSON's length in bytes is not its length in characters.
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
    ),
    messageShare: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map(({ messageShare, ...o }): ServerOptions => {
    const maxMessageSize = Math.max(1, Math.floor(o.maxFrameSize * messageShare));
    return { ...o, maxMessageSize, maxCometBodySize: o.maxFrameSize, maxRequestBodySize: o.maxFrameSize };
  });

function bytes(payload: string | Uint8Array): Buffer {
  return typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
}

function encoded(pm: ProtocolMessage, format: Format): Buffer {
  return bytes(format === 'json' ? encodeJson(pm) : encodeMsgpack(pm));
}

/** The WebSocket frame the transport writes for `frame` in `format` (a string is latin1 text) is the encoder's, framed. */
function assertWsFrame(frame: OutboundFrame, pm: ProtocolMessage, format: Format): void {
  const wire = frame.wsWrite(format);
  const written = typeof wire === 'string' ? Buffer.from(wire, 'latin1') : wire;
  const opcode = format === 'json' ? WS_OPCODE_TEXT : WS_OPCODE_BINARY;
  assert.deepEqual(written, wsFrame(encoded(pm, format), opcode), `${format} WebSocket frame`);
}

describe('CONNECTED from the template', () => {
  it('has a template with the default options', () => {
    assert.equal(hasConnectedTemplate(resolveOptions()), true);
  });

  it('is byte for byte the encoders’ CONNECTED, JSON and msgpack', () => {
    fc.assert(
      fc.property(
        options,
        connectionId,
        secret,
        fc.integer({ min: 1, max: 2 ** 52 }),
        clientId,
        (opts: ServerOptions, id, sec, generation, client) => {
          const o = resolveOptions(opts);
          assert.equal(hasConnectedTemplate(o), true);
          const key = formatConnectionKey(id, sec, generation);
          const pm = connectedMessage(o, id, key, client);
          for (const format of FORMATS) {
            const frame = connectedFrame(o, format, id, key, client);
            assert.deepEqual(frame.pm, pm, 'the frame carries the message itself');
            assert.deepEqual(bytes(frame.payload(format)), encoded(pm, format), format);
            // The other format is encoded from the message, as any frame's.
            const other: Format = format === 'json' ? 'msgpack' : 'json';
            assert.deepEqual(bytes(frame.payload(other)), encoded(pm, other), other);
            for (const each of FORMATS) assertWsFrame(frame, pm, each);
          }
        },
      ),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('decodes to the message (msgpack, a clientId of every str size)', () => {
    const o = resolveOptions();
    for (const client of [
      undefined,
      '',
      'a',
      'é'.repeat(16),
      'x'.repeat(31),
      'x'.repeat(32),
      'y'.repeat(256),
      'z'.repeat(65_536),
    ]) {
      const key = formatConnectionKey('abcdefghijkl', 'ABCDEFGHIJKLMNOP', 1);
      const frame = connectedFrame(o, 'msgpack', 'abcdefghijkl', key, client);
      assert.deepEqual(
        decodeMsgpack(frame.payload('msgpack') as Uint8Array),
        connectedMessage(o, 'abcdefghijkl', key, client),
      );
    }
  });

  it('goes through the encoder for a CONNECTED with an error (a failed resume)', () => {
    const o = resolveOptions();
    const error = { code: 80008, statusCode: 400, message: 'Unable to recover connection' };
    const pm = connectedMessage(o, 'abcdefghijkl', 'k', undefined, error);
    for (const format of FORMATS) {
      const frame = connectedFrame(o, format, 'abcdefghijkl', 'k', undefined, error);
      const expected = format === 'json' ? encodeJson(pm) : encodeMsgpack(pm);
      assert.deepEqual(bytes(frame.payload(format)), bytes(expected));
    }
  });
});

describe('ATTACHED from the template', () => {
  /** Channel names of every msgpack str size and script; flags of every msgpack uint size and beyond. */
  const channel = fc.oneof(
    // Each msgpack str size's edges (ASCII, and 2-byte characters that cross them in UTF-8).
    fc.constantFrom(31, 32, 255, 256, 65_535, 65_536).map((n) => 'c'.repeat(n)),
    fc.constantFrom(15, 16, 127, 128).map((n) => 'é'.repeat(n)),
    fc.string({ minLength: 1, maxLength: 40 }),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
    fc.string({ minLength: 250, maxLength: 300 }),
    fc.string({ minLength: 65_530, maxLength: 65_540 }),
  );
  const flags = fc.oneof(
    // Each msgpack integer size's edges, then anything.
    fc.constantFrom(0, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 0x100000000),
    fc.integer({ min: 0, max: 0x7f }),
    fc.integer({ min: 0x80, max: 0xffff }),
    fc.integer({ min: 0x10000, max: 0xffffffff }),
    fc.integer({ min: 0x100000000, max: Number.MAX_SAFE_INTEGER }),
  );
  const serial = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 10 }));

  it('is byte for byte the encoders’ ATTACHED, in the transport’s format and the other', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Format | undefined>('json', 'msgpack', undefined),
        channel,
        flags,
        serial,
        (format, name, f, s) => {
          const frame = attachedFrame(format, name, f, s);
          const pm: ProtocolMessage = { action: Action.ATTACHED, channel: name, flags: f, channelSerial: s };
          assert.deepEqual(frame.pm, pm);
          for (const each of FORMATS) {
            assert.deepEqual(bytes(frame.payload(each)), encoded(pm, each), each);
            assertWsFrame(frame, pm, each);
          }
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });
});
