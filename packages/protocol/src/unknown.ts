/**
 * Values from outside the type system, typed `unknown` where they enter: JSON text, a field read by
 * name, an array check. The built-ins are typed `any` (`JSON.parse`, `Reflect.get`, and `Array.isArray`
 * narrows `unknown` to `any[]`); these are the same functions with honest types, and every such value
 * in the code base goes through them before guards (isPlainObject, isArrayValue) give it a type.
 * Lint keeps it so (docs/architecture.md, "Types: no any"). No imports: the browser client uses it too.
 */

/** `JSON.parse` for trusted text (config files, package.json, stored records); untrusted input: `decodeJson` (limits). */
export const parseJson: (text: string) => unknown = JSON.parse;

/** A property read by name (a private field in a test, a field of an untyped object): `Reflect.get`. */
export const readField: (target: object, key: PropertyKey) => unknown = Reflect.get;

/** Array.isArray, narrowing to elements of unknown type (it narrows `unknown` to `any[]`). */
export function isArrayValue(value: unknown): value is readonly unknown[] {
  return Array.isArray(value);
}

/** `Object.entries` of an object without an index signature (options, params), values unknown (not `any`). */
export const entriesOf: (o: object) => [string, unknown][] = Object.entries;
