/**
 * Capabilities: a JSON object mapping resource patterns to operation lists (Ably docs,
 * auth/capabilities). Pure functions; nothing here knows about connections.
 *
 * Resource patterns match whole `:`-separated segments:
 * - `*` matches every ordinary channel, but not `[meta]…` or other `[…]`-prefixed channels;
 * - a `*` segment matches one segment, a trailing `*` segment one or more (`ns:*` ⊇ `ns:a:b`);
 * - `foo*` is literal;
 * - `[meta]*` matches metachannels, `[*]*` matches everything.
 */
import { AblyError, Err, Flag, decodeJson, decodeLimits, isArrayValue } from '@encke/protocol';

export const OPERATIONS = [
  'subscribe',
  'publish',
  'presence',
  'history',
  'stats',
  'channel-metadata',
  'push-subscribe',
  'push-admin',
  'privileged-headers',
  'object-subscribe',
  'object-publish',
  'annotation-subscribe',
  'annotation-publish',
  'message-update-own',
  'message-update-any',
  'message-delete-own',
  'message-delete-any',
] as const;
export type Operation = (typeof OPERATIONS)[number];
const KNOWN_OPS = new Set<string>([...OPERATIONS, '*']);

/** resource pattern → operations (`*` expanded lazily by `allows`). */
export type Capability = ReadonlyMap<string, ReadonlySet<string>>;

/** Upper bound on a capability's JSON text; longer ones are refused before parsing. */
export const MAX_CAPABILITY_LENGTH = 16 * 1024;
const MAX_RESOURCES = 256;

export const FULL_CAPABILITY: Capability = new Map([['*', new Set(['*'])]]);

function invalid(message: string): never {
  throw new AblyError(Err.badRequest, `Invalid capability: ${message}`);
}

/** Validates a capability given as JSON text or as an already-parsed object. Throws 40000. */
export function parseCapability(input: unknown): Capability {
  let value = input;
  if (typeof input === 'string') {
    if (input.length > MAX_CAPABILITY_LENGTH) invalid(`longer than ${MAX_CAPABILITY_LENGTH} characters`);
    try {
      value = decodeJson(input, decodeLimits(MAX_CAPABILITY_LENGTH));
    } catch {
      invalid('not valid JSON');
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) invalid('must be a JSON object');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_RESOURCES) invalid(`more than ${MAX_RESOURCES} resources`);
  const cap = new Map<string, ReadonlySet<string>>();
  for (const [resource, ops] of entries) {
    if (resource === '') invalid('empty resource name');
    if (!isArrayValue(ops) || ops.length === 0) invalid(`operations for "${resource}" must be a non-empty array`);
    const set = new Set<string>();
    for (const op of ops) {
      if (typeof op !== 'string' || !KNOWN_OPS.has(op))
        invalid(`unknown operation ${JSON.stringify(op)} for "${resource}"`);
      set.add(op);
    }
    cap.set(resource, set);
  }
  return cap;
}

/** Canonical JSON text: resources sorted, operations sorted (what ably-js signs in TokenRequests). */
export function capabilityToJson(cap: Capability): string {
  const obj: Record<string, string[]> = {};
  for (const resource of [...cap.keys()].sort()) obj[resource] = [...cap.get(resource)!].sort();
  return JSON.stringify(obj);
}

/** Splits `[qualifier]rest` names; ordinary names have no qualifier. */
function splitQualifier(name: string): { qualifier: string | undefined; rest: string } {
  if (!name.startsWith('[')) return { qualifier: undefined, rest: name };
  const end = name.indexOf(']');
  if (end < 0) return { qualifier: undefined, rest: name };
  return { qualifier: name.slice(1, end), rest: name.slice(end + 1) };
}

function segmentsMatch(pattern: string, name: string): boolean {
  if (pattern === name) return true;
  const ps = pattern.split(':');
  const ns = name.split(':');
  for (let i = 0; i < ps.length; i++) {
    const p = ps[i]!;
    if (p === '*' && i === ps.length - 1) return ns.length >= ps.length;
    if (i >= ns.length) return false;
    if (p !== '*' && p !== ns[i]) return false;
  }
  return ns.length === ps.length;
}

/** Whether resource pattern `resource` covers channel `name`. */
export function resourceMatches(resource: string, name: string): boolean {
  // The common cases first, without splitting anything.
  if (resource === name) return true;
  if (resource === '*' && !name.startsWith('[')) return true;
  const r = splitQualifier(resource);
  const n = splitQualifier(name);
  // `[?param=…]name` is an ordinary channel with attach params: match on the bare name.
  const nameQualifier = n.qualifier !== undefined && n.qualifier.startsWith('?') ? undefined : n.qualifier;
  if (r.qualifier === '*') return segmentsMatch(r.rest, n.rest);
  if (r.qualifier !== nameQualifier) return false;
  return segmentsMatch(r.rest, n.rest);
}

/** The operations `cap` grants on channel `name` (`*` included as is). */
export function operationsOn(cap: Capability, name: string): Set<string> {
  const ops = new Set<string>();
  for (const [resource, granted] of cap) {
    if (resourceMatches(resource, name)) for (const op of granted) ops.add(op);
  }
  return ops;
}

/** Whether `cap` allows `op` on channel `name`. */
export function allows(cap: Capability, name: string, op: Operation): boolean {
  for (const [resource, granted] of cap) {
    if ((granted.has(op) || granted.has('*')) && resourceMatches(resource, name)) return true;
  }
  return false;
}

/** Channel mode bits each operation grants; operations that grant no channel mode are absent. */
const OP_MODES: ReadonlyMap<string, number> = new Map([
  ['presence', Flag.PRESENCE],
  ['publish', Flag.PUBLISH],
  // `subscribe` also grants presence subscribe and presence get (Ably capability docs).
  ['subscribe', Flag.SUBSCRIBE | Flag.PRESENCE_SUBSCRIBE],
  ['annotation-publish', Flag.ANNOTATION_PUBLISH],
  ['annotation-subscribe', Flag.ANNOTATION_SUBSCRIBE],
  ['object-subscribe', Flag.OBJECT_SUBSCRIBE],
  ['object-publish', Flag.OBJECT_PUBLISH],
]);
/** What `*` (every operation) grants. */
const ALL_OP_MODES = [...OP_MODES.values()].reduce((a, b) => a | b, 0);

/**
 * Channel mode flag bits that `cap` permits on `name`: the modes of every operation granted on a
 * resource that covers `name`, nothing for anything else (deny by default). Every ATTACH asks, so
 * it ORs bits as it goes instead of collecting the operations in a set first.
 */
export function allowedModes(cap: Capability, name: string): number {
  let modes = 0;
  for (const [resource, granted] of cap) {
    if (!resourceMatches(resource, name)) continue;
    for (const op of granted) modes |= op === '*' ? ALL_OP_MODES : (OP_MODES.get(op) ?? 0);
  }
  return modes;
}

function intersectOps(a: ReadonlySet<string>, b: ReadonlySet<string>): Set<string> {
  if (a.has('*')) return new Set(b);
  if (b.has('*')) return new Set(a);
  return new Set([...a].filter((op) => b.has(op)));
}

/** Whether every name matched by `narrow` is also matched by `wide`. */
function patternCovers(wide: string, narrow: string): boolean {
  if (wide === narrow) return true;
  // A pattern covers another when it matches it read as a channel name, with `*` standing for "any".
  return resourceMatches(wide, narrow);
}

/**
 * The capability a token gets: the requested capability limited to what the key allows. For each
 * pair of resources where one covers the other, the narrower resource keeps the common operations.
 * An empty result means the request asked for nothing the key allows.
 */
export function intersectCapabilities(key: Capability, requested: Capability): Capability {
  const out = new Map<string, Set<string>>();
  const add = (resource: string, ops: Set<string>): void => {
    if (ops.size === 0) return;
    const existing = out.get(resource);
    if (existing) for (const op of ops) existing.add(op);
    else out.set(resource, ops);
  };
  for (const [reqResource, reqOps] of requested) {
    for (const [keyResource, keyOps] of key) {
      if (patternCovers(keyResource, reqResource)) add(reqResource, intersectOps(keyOps, reqOps));
      else if (patternCovers(reqResource, keyResource)) add(keyResource, intersectOps(keyOps, reqOps));
    }
  }
  // `*` alongside named operations is redundant; keep the canonical `["*"]`.
  for (const [resource, ops] of out) if (ops.has('*') && ops.size > 1) out.set(resource, new Set(['*']));
  return out;
}
