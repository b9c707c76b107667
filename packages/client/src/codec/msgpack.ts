/** MessagePack: binary WebSocket frames; comet bodies of concatenated msgpack arrays. Loaded only with `useBinaryProtocol`. */
import { Decoder, Encoder, ExtensionCodec } from '@msgpack/msgpack';
import type { WireFormat } from './codec.js';

// ably's msgpack fork may write `undefined` as ext type 0; read it as undefined.
const extensionCodec = new ExtensionCodec();
extensionCodec.register({ type: 0, encode: () => null, decode: () => undefined });
const encoder = new Encoder({ ignoreUndefined: true });
const options = { extensionCodec, useBigInt64: false } as const;

export const msgpackWire: WireFormat = {
  format: 'msgpack',
  contentType: 'application/x-msgpack',
  encode: (value) => encoder.encode(value) as Uint8Array<ArrayBuffer>,
  decode(frame) {
    if (typeof frame === 'string') throw new TypeError('Expected a binary msgpack frame');
    return new Decoder(options).decode(frame instanceof Uint8Array ? frame : new Uint8Array(frame));
  },
  values: (chunks) => new Decoder(options).decodeStream(chunks),
};
