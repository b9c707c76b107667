/**
 * Apps and their API keys. An app is the unit of isolation: channels, connections, history and
 * tokens of one app are invisible to every other app.
 */
import type { Capability } from '../auth/capability.js';

export interface ApiKey {
  readonly appId: string;
  readonly keyId: string;
  /** `appId.keyId`, the public half of the key. */
  readonly name: string;
  readonly secret: string;
  readonly capability: Capability;
  /** Tokens issued by this key can be revoked (and then carry a revocation check). */
  readonly revocableTokens: boolean;
}

/** Per-namespace rules, for channels named `<namespace>:…`. */
export interface Namespace {
  readonly id: string;
  /** History kept for this long (ms) instead of the server's channel log age. */
  readonly persisted: boolean;
  /** Message updates, deletes, appends and annotations allowed on these channels (they keep the persisted log limits). */
  readonly mutableMessages: boolean;
}

export interface App {
  readonly id: string;
  readonly keys: readonly ApiKey[];
  readonly namespaces: ReadonlyMap<string, Namespace>;
  /** Refuse connections and requests that do not arrive over TLS (40311). */
  readonly tlsOnly: boolean;
  /** Web origins (lowercase `scheme://host[:port]`) whose pages may use the app; any when absent (40300 otherwise). */
  readonly allowedOrigins?: readonly string[];
}

export const APP_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
export const KEY_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const KEY_STRING_RE = /^([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{1,64}):(.+)$/;

export interface ParsedKeyString {
  appId: string;
  keyId: string;
  secret: string;
}

/** Parses `appId.keyId:secret`; undefined when malformed. */
export function parseKeyString(key: string): ParsedKeyString | undefined {
  const m = KEY_STRING_RE.exec(key);
  return m ? { appId: m[1]!, keyId: m[2]!, secret: m[3]! } : undefined;
}

/** The namespace of channel `name` in `app`, if one is configured (`ns:rest` → `ns`). */
export function namespaceOf(app: App, name: string): Namespace | undefined {
  const colon = name.indexOf(':');
  return colon > 0 ? app.namespaces.get(name.slice(0, colon)) : undefined;
}
