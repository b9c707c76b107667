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
  return batchOf(jsonValue(text), text);
}

/** A decoded batch (JSON or msgpack: an array of ProtocolMessages), checked for that shape; `text` shows it when not. */
export function batchOf(value: unknown, text = describe(value)): ProtocolMessage[] {
  if (!isArrayValue(value) || !value.every(isWireMessage)) throw new Error(`not a batch of protocol messages: ${text}`);
  return [...value];
}

/** A decoded value that must be an array of objects (each one's fields of unknown type). */
export function objectsOf(value: unknown): Record<string, unknown>[] {
  if (!isArrayValue(value) || !value.every(isPlainObject))
    throw new Error(`not an array of objects: ${describe(value)}`);
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

/** A decoded ProtocolMessage (JSON or msgpack), checked as jsonMessage checks it. */
export function messageOf(value: unknown): ProtocolMessage {
  if (!isWireMessage(value)) throw new Error(`not a protocol message: ${describe(value)}`);
  return value;
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

/** The fields of a TokenDetails (a token endpoint's answer) that tests read. */
export interface TokenFields {
  token: string;
  expires: number;
  issued: number;
  capability: string;
  clientId?: string;
  keyName?: string;
}

export function isTokenFields(value: unknown): value is TokenFields {
  return (
    isPlainObject(value) &&
    typeof value.token === 'string' &&
    typeof value.expires === 'number' &&
    typeof value.issued === 'number' &&
    typeof value.capability === 'string' &&
    (value.clientId === undefined || typeof value.clientId === 'string') &&
    (value.keyName === undefined || typeof value.keyName === 'string')
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

/** A fetch Response's body as JSON, of unknown type (read as text: a body that is not JSON fails saying so). */
export async function responseJson(res: Response): Promise<unknown> {
  return jsonValue(await res.text());
}

/** A fetch Response's JSON body checked by a guard: the value, or an Error saying what it is not. */
export async function responseAs<T>(res: Response, is: (value: unknown) => value is T, what: string): Promise<T> {
  return jsonAs(await res.text(), is, what);
}

/** A fetch Response's JSON body, an object (its fields of unknown type). */
export async function responseObject(res: Response): Promise<Record<string, unknown>> {
  return jsonObject(await res.text());
}

/** A fetch Response's JSON body, an array of objects (each one's fields of unknown type). */
export async function responseObjects(res: Response): Promise<Record<string, unknown>[]> {
  return objectsOf(await responseJson(res));
}

/** A fetch Response's error body, `{"error": ErrorInfo}`: its ErrorInfo. */
export async function responseError(res: Response): Promise<ErrorFields> {
  return jsonError(await res.text());
}

/** The ErrorInfo of a body already parsed (`{"error": ErrorInfo}`), or an Error saying what the body is. */
export function bodyError(body: unknown): ErrorFields {
  const error = bodyErrorIfAny(body);
  if (error === undefined) throw new Error(`not an error body ({"error": ErrorInfo}): ${describe(body)}`);
  return error;
}

/**
 * The ErrorInfo of a body already parsed, or undefined when the body carries none (not an object, or
 * no `error` field). An `error` field that is not an ErrorInfo is an Error, not undefined.
 */
export function bodyErrorIfAny(body: unknown): ErrorFields | undefined {
  if (!isPlainObject(body) || body.error === undefined) return undefined;
  if (!isErrorFields(body.error)) throw new Error(`not an ErrorInfo: ${describe(body.error)}`);
  return body.error;
}

/** A value as a test failure shows it: its first 300 characters of JSON (bytes as a Buffer's JSON). */
function describe(value: unknown): string {
  return (typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))).slice(0, 300);
}
