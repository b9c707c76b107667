/**
 * JSON text read as a value of unknown type, for tests reading what a server wrote: `JSON.parse`'s
 * result is typed `any`; the protocol's own decoder returns `unknown`, to be checked before use.
 * Limits far above a client frame's: test bodies and fixture files may be larger.
 */
import { decodeFrame, isArrayValue, isPlainObject, type ProtocolMessage } from '@encke/protocol';

const TEST_LIMITS = {
  maxBytes: Number.MAX_SAFE_INTEGER,
  maxDepth: 64,
  maxContainerLength: Number.MAX_SAFE_INTEGER,
  maxStringLength: Number.MAX_SAFE_INTEGER,
};

export function jsonValue(text: string): unknown {
  return decodeFrame(text, 'json', TEST_LIMITS);
}

/** A ProtocolMessage as a server writes it: an object with a numeric action (its other fields as they came). */
function isWireMessage(value: unknown): value is ProtocolMessage {
  return isPlainObject(value) && typeof value.action === 'number';
}

/** JSON text of one batch a server wrote (an array of ProtocolMessages), checked for that shape. */
export function jsonBatch(text: string): ProtocolMessage[] {
  const value = jsonValue(text);
  if (!isArrayValue(value) || !value.every(isWireMessage)) throw new Error(`not a batch of protocol messages: ${text}`);
  return [...value];
}
