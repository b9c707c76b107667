/**
 * Property-based tests of the protocol decoders and validators (fast-check, fixed seed):
 * - any bytes or text: the decoders answer a value or an AblyError 40000/40009, nothing else;
 * - any JSON value within the bounds round-trips through both codecs; past a bound it is refused;
 * - whatever `parseProtocolMessage` accepts, every encoder serialises and decodes again (so an
 *   accepted message can never fail the encoder of a subscriber, a rewind or history).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  AblyError,
  Action,
  Err,
  MAX_EXTRAS_DEPTH,
  MAX_DECODE_DEPTH,
  PayloadError,
  decodeFrame,
  decodeJson,
  decodeLimits,
  decodeMsgpack,
  encodeJson,
  encodeMsgpack,
  encodeMsgpackValue,
  parseProtocolMessage,
  type Format,
  parseJson,
  isArrayValue,
  type ProtocolMessage,
} from '@encke/protocol';
import { annotation, encodeAny, inputFor, message, nest, protocolMessage } from './arbitraries.js';
import { FUZZ_SEED } from './targets.js';

const RUNS = 300;
const LIMITS = decodeLimits(64 * 1024);
const params = { seed: FUZZ_SEED, numRuns: RUNS };

/** Runs `fn`; anything thrown must be an AblyError with one of `codes`. */
function onlyAblyErrors(
  fn: () => unknown,
  codes: readonly number[] = [Err.badRequest.code, Err.maxMessageSizeExceeded.code],
): unknown {
  try {
    return fn();
  } catch (err) {
    assert.ok(err instanceof AblyError, `threw ${String(err)}`);
    assert.ok(codes.includes(err.code), `code ${err.code}: ${err.message}`);
    return undefined;
  }
}

function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return 0;
  let max = 0;
  const items: readonly unknown[] = isArrayValue(value) ? value : Object.values(value);
  for (const v of items) max = Math.max(max, depthOf(v));
  return max + 1;
}

describe('fuzz: decoders and validators', () => {
  for (const format of ['json', 'msgpack'] as Format[]) {
    it(`${format}: any input decodes or is refused with 40000/40009`, () => {
      fc.assert(
        fc.property(inputFor(protocolMessage, format), (bytes) => {
          onlyAblyErrors(() =>
            format === 'json' ? decodeJson(bytes.toString('utf8'), LIMITS) : decodeMsgpack(bytes, LIMITS),
          );
        }),
        params,
      );
    });

    it(`${format}: JSON values within the bounds round-trip; deeper ones are refused`, () => {
      // `__proto__` keys are refused by the msgpack decoder (and by extras validation) on purpose.
      const plain = fc.jsonValue({ maxDepth: 6 }).filter((v) => !JSON.stringify(v).includes('"__proto__"'));
      const value = fc.oneof(plain, fc.integer({ min: 1, max: 2 * MAX_DECODE_DEPTH }).map(nest));
      const normal = (v: unknown): unknown => parseJson(JSON.stringify(v)) as unknown; // -0 is 0 in JSON
      fc.assert(
        fc.property(value, (v) => {
          const bytes = encodeAny(v, format);
          const decoded = onlyAblyErrors(() =>
            decodeFrame(format === 'json' ? bytes.toString('utf8') : bytes, format, LIMITS),
          );
          if (depthOf(v) <= MAX_DECODE_DEPTH) assert.deepEqual(normal(decoded), normal(v));
          else assert.equal(decoded, undefined);
        }),
        params,
      );
    });

    it(`${format}: whatever parseProtocolMessage accepts, every encoder serialises and decodes again`, () => {
      // Inputs that once got through, always tried first.
      const examples: [Buffer][] = [
        [
          encodeAny(
            {
              action: Action.MESSAGE,
              channel: 'x',
              msgSerial: 0,
              messages: [{ data: 'd', extras: nest(MAX_EXTRAS_DEPTH + 20) }],
            },
            format,
          ),
        ],
        [
          Buffer.from(
            `{"action":${Action.MESSAGE},"channel":"x","messages":[{"extras":{"headers":{"__proto__":{"x":1}}}}]}`,
          ),
        ],
        [
          Buffer.from(
            `{"action":${Action.PRESENCE},"channel":"x","presence":[{"action":2,"extras":{"__proto__":[]}}]}`,
          ),
        ],
      ];
      fc.assert(
        fc.property(inputFor(protocolMessage, format), (bytes) => {
          const raw = onlyAblyErrors(() =>
            decodeFrame(format === 'json' ? bytes.toString('utf8') : bytes, format, LIMITS),
          );
          if (raw === undefined) return;
          let pm: ProtocolMessage;
          try {
            pm = parseProtocolMessage(raw);
          } catch (err) {
            assert.ok(err instanceof AblyError, `threw ${String(err)}`);
            assert.ok(err.statusCode >= 400 && err.statusCode < 500, `${err.code} ${err.message}`);
            if (!(err instanceof PayloadError)) return;
            pm = err.envelope;
          }
          const json = encodeJson(pm);
          const msgpack = encodeMsgpack(pm);
          assert.ok(decodeJson(json) !== undefined);
          assert.ok(decodeMsgpack(msgpack) !== undefined);
          // Inside a REST answer too (an array of messages in an envelope).
          encodeMsgpackValue({ statusCode: 200, response: pm.messages ?? [], headers: {} });
        }),
        { ...params, examples },
      );
    });
  }

  it('messages and annotations that validate have the types they declare (serial, version, annotation fields)', () => {
    const optional = (v: unknown, type: string): boolean => v === undefined || typeof v === type;
    // Sound envelopes, so that the payloads are what gets validated.
    const payloads = fc.oneof(
      fc.record({
        action: fc.constant(Action.MESSAGE),
        channel: fc.constant('x'),
        msgSerial: fc.nat(),
        messages: fc.array(message, { maxLength: 3 }),
      }),
      fc.record({
        action: fc.constant(Action.ANNOTATION),
        channel: fc.constant('x'),
        msgSerial: fc.nat(),
        annotations: fc.array(annotation, { maxLength: 3 }),
      }),
    );
    fc.assert(
      fc.property(payloads, (raw) => {
        let pm: ProtocolMessage;
        try {
          pm = parseProtocolMessage(raw);
        } catch (err) {
          assert.ok(err instanceof AblyError, `threw ${String(err)}`);
          return;
        }
        for (const m of pm.messages ?? []) {
          assert.ok(optional(m.serial, 'string'), 'message serial');
          const v = m.version;
          if (v === undefined) continue;
          assert.ok(optional(v.clientId, 'string') && optional(v.description, 'string'), 'version fields');
          assert.ok(
            Object.values(v.metadata ?? {}).every((x) => typeof x === 'string'),
            'metadata values',
          );
        }
        for (const a of pm.annotations ?? []) {
          assert.ok(Number.isSafeInteger(a.action) && a.action >= 0, 'annotation action');
          for (const f of ['type', 'name', 'messageSerial', 'clientId', 'id', 'encoding'] as const)
            assert.ok(optional(a[f], 'string'), `annotation ${f}`);
          assert.ok(a.count === undefined || (Number.isSafeInteger(a.count) && a.count >= 0), 'annotation count');
          assert.ok(
            a.data === undefined || typeof a.data === 'string' || a.data instanceof Uint8Array,
            'annotation data',
          );
        }
      }),
      params,
    );
  });

  it('pre-allocation headers cost nothing: 1,000,000 announced elements per byte are refused at once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30_000 }),
        fc.constantFrom([0xdc, 0xff, 0xff], [0xdd, 0x00, 0x0f, 0x42, 0x40], [0xdf, 0x00, 0x0f, 0x42, 0x40]),
        (n, header) => {
          const bytes = Buffer.from(Array.from({ length: n }, () => header).flat());
          const heapBefore = process.memoryUsage().heapUsed;
          onlyAblyErrors(() => decodeMsgpack(bytes, decodeLimits(1024 * 1024)));
          assert.ok(process.memoryUsage().heapUsed - heapBefore < 32 * 1024 * 1024, 'no large allocation');
        },
      ),
      { ...params, numRuns: 50 },
    );
  });
});
