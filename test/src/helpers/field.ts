/**
 * A private field of a server object, read by a test as a value to be checked (`Reflect.get` is
 * typed `any`; protocol's readField is `Reflect.get` typed to return unknown).
 */
import assert from 'node:assert/strict';
import { isPlainObject } from '@encke/protocol';

export { readField as field } from '@encke/protocol';

/** A message's `data` (ably-js types it `any`; so is an EventSource event's), read as a value to be checked. */
export function dataOf(m: { readonly data?: unknown } | undefined): unknown {
  return m?.data;
}

/** A message's `extras` (ably-js types it `any`), read as a value to be checked. */
export function extrasOf(m: { readonly extras?: unknown } | undefined): unknown {
  return m?.extras;
}

/** The first item of a page the SDK types `any[]` (rest.request's), read as a value to be checked. */
export function firstItem(items: readonly unknown[]): unknown {
  return items[0];
}

/** `value` as binary data (a Uint8Array, Buffer or ArrayBuffer), or the test fails saying what it was. */
export function bytesOf(value: unknown, what = 'data'): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new assert.AssertionError({ message: `${what}: binary data expected, got ${typeof value}`, actual: value });
}

/** `value` as a string, or the test fails saying what it was. */
export function stringOf(value: unknown, what = 'data'): string {
  if (typeof value === 'string') return value;
  throw new assert.AssertionError({ message: `${what}: a string expected, got ${typeof value}`, actual: value });
}

/** `value` as an object whose fields are read with `field` (checked where used), or the test fails. */
export function objectOf(value: unknown, what = 'value'): Record<string, unknown> {
  if (isPlainObject(value)) return value;
  throw new assert.AssertionError({ message: `${what}: an object expected, got ${typeof value}`, actual: value });
}
