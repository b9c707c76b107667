/**
 * What the fuzzers send: ProtocolMessages and REST bodies that are mostly well-formed with hostile
 * fields (deep or odd extras, wrong types, unknown actions, huge numbers), their encodings mutated
 * (flipped bytes, truncation, inserted pre-allocation headers), and plain random bytes or text.
 */
import { Encoder } from '@msgpack/msgpack';
import fc from 'fast-check';
import { Action, MAX_EXTRAS_DEPTH, PresenceAction, type Format, parseJson } from '@encke/protocol';

/** Encodes anything, at any depth, as an attacker's client would (the protocol encoder stops at 100). */
const rawEncoder = new Encoder({ maxDepth: 100_000, ignoreUndefined: true });

export function encodeAny(value: unknown, format: Format): Buffer {
  return format === 'json' ? Buffer.from(JSON.stringify(value) ?? 'null') : Buffer.from(rawEncoder.encode(value));
}

/** `levels` nested objects (`{a:{a:…}}`). */
export function nest(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

const name = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('fuzz', 'fuzz:a', '', ':x', '[meta]x', '*', 'a'.repeat(3000), 'x\ny'),
);
const number = fc.oneof(
  fc.integer({ min: -3, max: 1000 }),
  fc.double(),
  fc.constantFrom(2 ** 53, -(2 ** 31), 1e300, Number.MAX_SAFE_INTEGER),
);
const deep = fc.integer({ min: MAX_EXTRAS_DEPTH - 2, max: 200 }).map(nest);
const json = fc.oneof({ weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) }, { weight: 1, arbitrary: deep });
const data = fc.oneof(fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), json, fc.constant(null));
const encoding = fc.oneof(
  fc.constantFrom('json', 'base64', 'utf-8/base64', 'json/utf-8/base64', 'cipher+aes-128-cbc/base64', 'vcdiff'),
  fc.string({ maxLength: 10 }),
);

/** The operation of an update, delete or append (`version`), with hostile values. */
const version = fc.oneof(
  fc.record(
    {
      clientId: fc.oneof(fc.constantFrom('*', '', 'me'), fc.string({ maxLength: 8 }), number),
      description: fc.oneof(fc.string({ maxLength: 20 }), number),
      metadata: fc.oneof(
        fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 8 }), number), { maxKeys: 3 }),
        json,
      ),
      serial: fc.string({ maxLength: 20 }),
    },
    { requiredKeys: [] },
  ),
  json,
);

export const message = fc.record(
  {
    id: fc.oneof(fc.string({ maxLength: 20 }), number),
    serial: fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('abcdefgh-00000000001:000'), number),
    version,
    name,
    data,
    encoding,
    extras: fc.oneof(json, deep, fc.constant(parseJson('{"headers":{"__proto__":{"x":1}}}') as unknown)),
    clientId: fc.oneof(fc.constantFrom('*', '', 'me'), fc.string({ maxLength: 8 })),
    connectionKey: fc.string({ maxLength: 30 }),
    action: fc.oneof(fc.integer({ min: -1, max: 6 }), number),
    timestamp: number,
  },
  { requiredKeys: [] },
);

const presence = fc.record(
  {
    action: fc.oneof(fc.constantFrom(...Object.values(PresenceAction)), number),
    clientId: fc.oneof(fc.constantFrom('*', '', 'me'), fc.string({ maxLength: 8 })),
    data,
    encoding,
    extras: json,
    id: fc.string({ maxLength: 20 }),
  },
  { requiredKeys: [] },
);

export const annotation = fc.record(
  {
    action: fc.oneof(fc.constantFrom(0, 1), number),
    messageSerial: fc.oneof(fc.string({ maxLength: 30 }), number),
    type: fc.oneof(
      fc.constantFrom(
        'r:total.v1',
        'r:flag.v1',
        'r:distinct.v1',
        'r:unique.v1',
        'r:multiple.v1',
        'r:emoji.v1',
        ':total.v1',
      ),
      fc.string({ maxLength: 12 }),
      number,
    ),
    name: fc.oneof(name, number),
    count: number,
    clientId: fc.oneof(fc.constantFrom('*', '', 'me'), fc.string({ maxLength: 8 })),
    data,
    encoding,
    extras: json,
    id: fc.string({ maxLength: 20 }),
  },
  { requiredKeys: [] },
);

/** A client ProtocolMessage with hostile fields. */
export const protocolMessage = fc.record(
  {
    action: fc.oneof(
      {
        weight: 5,
        arbitrary: fc.constantFrom(
          ...Object.values(Action).filter((a) => a !== Action.CLOSE && a !== Action.DISCONNECT),
        ),
      },
      { weight: 1, arbitrary: number },
    ),
    channel: name,
    msgSerial: number,
    flags: number,
    channelSerial: fc.string({ maxLength: 30 }),
    params: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 8 }), number, json), {
      maxKeys: 4,
    }),
    messages: fc.oneof(fc.array(message, { maxLength: 4 }), json),
    presence: fc.oneof(fc.array(presence, { maxLength: 3 }), json),
    annotations: fc.oneof(fc.array(annotation, { maxLength: 3 }), json),
    auth: fc.oneof(fc.record({ accessToken: fc.string({ maxLength: 40 }) }), json),
    connectionDetails: json,
  },
  { requiredKeys: ['action'] },
);

/** Byte-level damage to an encoding. */
function mutate(bytes: Buffer): fc.Arbitrary<Buffer> {
  const at = fc.nat({ max: Math.max(0, bytes.length) });
  return fc.oneof(
    fc.tuple(at, fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
      const out = Buffer.from(bytes);
      if (out.length > 0) out[i % out.length] = b;
      return out;
    }),
    at.map((i) => bytes.subarray(0, i)),
    fc
      .tuple(
        at,
        fc.constantFrom(
          [0xdc, 0xff, 0xff],
          [0xdd, 0xff, 0xff, 0xff, 0xff],
          [0xdf, 0x7f, 0xff, 0xff, 0xff],
          [0xdb, 0xff, 0xff, 0xff, 0xf0],
          [0xc1],
        ),
        fc.integer({ min: 1, max: 2000 }),
      )
      .map(([i, header, times]) =>
        Buffer.concat([
          bytes.subarray(0, i),
          Buffer.from(Array.from({ length: times }, () => header).flat()),
          bytes.subarray(i),
        ]),
      ),
    fc
      .tuple(at, fc.constantFrom('[', '{"a":', '"', '\\', '\u0000', ',', ']]]]'))
      .map(([i, text]) => Buffer.concat([bytes.subarray(0, i), Buffer.from(text.repeat(200)), bytes.subarray(i)])),
  );
}

/** Bodies built to cost a decoder: nesting, pre-allocation headers, long runs. */
export const bombs = fc.oneof(
  fc.integer({ min: 1, max: 20_000 }).map((n) => Buffer.from('['.repeat(n) + ']'.repeat(n))),
  fc
    .integer({ min: 1, max: 20_000 })
    .map((n) => Buffer.concat(Array.from({ length: n }, () => Buffer.from([0xdc, 0xff, 0xff])))),
  fc
    .integer({ min: 1, max: 50_000 })
    .map((n) =>
      Buffer.from([0xdd, 0, 0, (n >> 8) & 0xff, n & 0xff, ...Array.from({ length: Math.min(n, 4000) }, () => 0x90)]),
    ),
);

/** One input for a decoder of `format`: a well-formed encoding of `value`, a damaged one, noise or a bomb. */
export function inputFor(value: fc.Arbitrary<unknown>, format: Format): fc.Arbitrary<Buffer> {
  const encoded = value.map((v) => encodeAny(v, format));
  return fc.oneof(
    { weight: 6, arbitrary: encoded },
    { weight: 3, arbitrary: encoded.chain(mutate) },
    {
      weight: 1,
      arbitrary:
        format === 'json'
          ? fc.string({ maxLength: 200 }).map((s) => Buffer.from(s))
          : fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
    },
    { weight: 1, arbitrary: bombs },
  );
}

/** A comet send body: an array of ProtocolMessages (or not). */
export const cometBody = fc.oneof(
  { weight: 5, arbitrary: fc.array(protocolMessage, { minLength: 1, maxLength: 4 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** A REST publish body: a message or an array of them (or not). */
export const restMessages = fc.oneof(message, fc.array(message, { maxLength: 4 }), fc.jsonValue({ maxDepth: 3 }));

/** A batch publish body. */
export const batchBody = fc.oneof(
  fc.record(
    {
      channels: fc.oneof(fc.array(name, { maxLength: 4 }), name, json),
      messages: fc.oneof(message, fc.array(message, { maxLength: 3 }), json),
    },
    { requiredKeys: [] },
  ),
  fc.array(fc.record({ channels: fc.array(name, { maxLength: 3 }), messages: message }), { maxLength: 3 }),
);

/** A TokenRequest or token params body. */
export const tokenBody = fc.record(
  {
    keyName: fc.oneof(fc.constant('testapp.full'), fc.string({ maxLength: 12 })),
    ttl: fc.oneof(number, fc.string({ maxLength: 5 })),
    capability: fc.oneof(fc.constant('{"*":["*"]}'), fc.string({ maxLength: 30 }), json),
    clientId: fc.oneof(fc.string({ maxLength: 10 }), number),
    timestamp: number,
    nonce: fc.string({ maxLength: 40 }),
    mac: fc.string({ maxLength: 44 }),
  },
  { requiredKeys: [] },
);

/** A sandbox app description. */
export const appDescription = fc.record(
  {
    keys: fc.oneof(
      fc.array(
        fc.record(
          {
            capability: fc.oneof(fc.constant('{"*":["*"]}'), fc.string({ maxLength: 20 }), json),
            revocableTokens: fc.boolean(),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 3 },
      ),
      json,
    ),
    namespaces: fc.oneof(
      fc.array(fc.record({ id: name, persisted: fc.boolean() }, { requiredKeys: [] }), { maxLength: 3 }),
      json,
    ),
    channels: fc.oneof(
      fc.array(
        fc.record(
          {
            name,
            presence: fc.array(fc.record({ clientId: name, data: fc.string({ maxLength: 10 }) }), { maxLength: 3 }),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 3 },
      ),
      json,
    ),
    limits: json,
  },
  { requiredKeys: [] },
);
