/**
 * The built-ins that return `any`, typed as what they return: `unknown` (docs/architecture.md,
 * "Types: no any"). Types only, used as views of the built-ins (`(JSON.parse as ParseJson)(text)`),
 * so the bundle is byte for byte what it was: a helper module shared by the core and the lazily
 * loaded chunks would be a chunk of its own, ~130 B min+gzip against the 12 KB core budget
 * (docs/client.md). The server, CLI, tests and web apps use @encke/protocol's unknown.ts instead.
 */

/** `JSON.parse` (lib.d.ts: returns `any`). */
export type ParseJson = (text: string) => unknown;

/** `Object.entries` of an object without an index signature (lib.d.ts: values `any`). */
export type EntriesOf = (o: object) => [string, unknown][];

/** `Array.isArray` (lib.d.ts: narrows `unknown` to `any[]`). */
export type IsArrayValue = (value: unknown) => value is readonly unknown[];
