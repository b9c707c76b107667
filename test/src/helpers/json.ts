/**
 * JSON text read as a value of unknown type, for tests reading what a server wrote: `JSON.parse`'s
 * result is typed `any`; the protocol's own decoder returns `unknown`, to be checked before use.
 * Limits far above a client frame's: test bodies and fixture files may be larger.
 *
 * The readers below check the shape they return (never a cast: lint's local/no-unchecked-cast), and
 * a wrong shape fails the test with an Error that shows the text.
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
export function isWireMessage(value: unknown): value is ProtocolMessage {
  return isPlainObject(value) && typeof value.action === 'number';
}

/** JSON text of one batch a server wrote (an array of ProtocolMessages), checked for that shape. */
export function jsonBatch(text: string): ProtocolMessage[] {
  const value = jsonValue(text);
  if (!isArrayValue(value) || !value.every(isWireMessage)) throw new Error(`not a batch of protocol messages: ${text}`);
  return [...value];
}

/** JSON text checked by a guard: the value, or an Error saying what it is not (and the text). */
export function jsonAs<T>(text: string, is: (value: unknown) => value is T, what: string): T {
  const value = jsonValue(text);
  if (!is(value)) throw new Error(`not ${what}: ${text.slice(0, 300)}`);
  return value;
}

/** JSON text of an object (a REST body, an event's data, a log line), its fields of unknown type. */
export function jsonObject(text: string): Record<string, unknown> {
  return jsonAs(text, isPlainObject, 'a JSON object');
}

/** JSON text of one ProtocolMessage as a server writes it (an object with a numeric action). */
export function jsonMessage(text: string): ProtocolMessage {
  return jsonAs(text, isWireMessage, 'a protocol message');
}

/** The fields of an ErrorInfo that tests read. */
export interface ErrorFields {
  message: string;
  code: number;
  statusCode: number;
}

export function isErrorFields(value: unknown): value is ErrorFields {
  return (
    isPlainObject(value) &&
    typeof value.message === 'string' &&
    typeof value.code === 'number' &&
    typeof value.statusCode === 'number'
  );
}

/** JSON text of an error body, `{"error": ErrorInfo}`: its ErrorInfo. */
export function jsonError(text: string): ErrorFields {
  const error = jsonObject(text).error;
  if (!isErrorFields(error)) throw new Error(`not an error body ({"error": ErrorInfo}): ${text.slice(0, 300)}`);
  return error;
}

/** `o[key]`, which must be a string. */
export function stringField(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new Error(`field ${key} is not a string: ${JSON.stringify(o).slice(0, 300)}`);
  return v;
}

/** `o[key]`, which must be a number. */
export function numberField(o: Record<string, unknown>, key: string): number {
  const v = o[key];
  if (typeof v !== 'number') throw new Error(`field ${key} is not a number: ${JSON.stringify(o).slice(0, 300)}`);
  return v;
}

/** `o[key]`, which must be an object. */
export function objectField(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = o[key];
  if (!isPlainObject(v)) throw new Error(`field ${key} is not an object: ${JSON.stringify(o).slice(0, 300)}`);
  return v;
}
