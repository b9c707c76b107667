/** The MessagePack codec: binary WebSocket frames; comet bodies of concatenated msgpack arrays. */
import { Decoder, Encoder, ExtensionCodec } from '@msgpack/msgpack';
import { Err, ErrorInfo } from '../errors.js';
import { asBatch, asProtocolMessage, type Codec } from './codec.js';

// ably's msgpack fork may write `undefined` as ext type 0; read it as undefined.
const extensionCodec = new ExtensionCodec();
extensionCodec.register({ type: 0, encode: () => null, decode: () => undefined });
const encoder = new Encoder({ ignoreUndefined: true });
const options = { extensionCodec, useBigInt64: false } as const;

function decodeValue(bytes: Uint8Array): unknown {
  try {
    return new Decoder(options).decode(bytes);
  } catch {
    throw ErrorInfo.of(Err.protocolError, 'Malformed msgpack from server');
  }
}

export const msgpackCodec: Codec = {
  format: 'msgpack',
  contentType: 'application/x-msgpack',
  encode: (pm) => encoder.encode(pm) as Uint8Array<ArrayBuffer>,
  encodeBatch: (pms) => encoder.encode(pms) as Uint8Array<ArrayBuffer>,
  decode(frame) {
    if (typeof frame === 'string') throw ErrorInfo.of(Err.protocolError, 'Expected a binary msgpack frame');
    return asProtocolMessage(decodeValue(frame instanceof Uint8Array ? frame : new Uint8Array(frame)));
  },
  async *batches(chunks) {
    try {
      for await (const value of new Decoder(options).decodeStream(chunks)) yield asBatch(value);
    } catch (err) {
      if (err instanceof ErrorInfo) throw err;
      throw ErrorInfo.of(Err.protocolError, 'Malformed msgpack from server');
    }
  },
};
