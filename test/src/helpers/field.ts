/**
 * A private field of a server object, read by a test as a value to be checked (`Reflect.get` is
 * typed `any`; protocol's readField is `Reflect.get` typed to return unknown).
 */
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
