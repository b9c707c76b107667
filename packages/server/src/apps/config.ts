/**
 * App configuration: validation of untrusted config (a JSON file, or `POST /apps` in sandbox mode)
 * into typed apps, with errors that name the offending field.
 */
import { isArrayValue } from '@encke/protocol';
import { FULL_CAPABILITY, parseCapability } from '../auth/capability.js';
import { APP_ID_RE, KEY_ID_RE, parseKeyString, type ApiKey, type App, type Namespace } from './app.js';

export interface KeyConfig {
  /** Key id (the part between `.` and `:`); or give `key` instead of id and secret. */
  id?: string;
  secret?: string;
  /** A whole key string `appId.keyId:secret`. */
  key?: string;
  /** Capability object or JSON text. @default {"*":["*"]} */
  capability?: Record<string, string[]> | string;
  /** Tokens issued by this key can be revoked. @default false */
  revocableTokens?: boolean;
}

export interface NamespaceConfig {
  id: string;
  /** Keep history for `persistedHistoryMaxAge` / `persistedHistoryMaxCount` instead of the channel log limits. @default false */
  persisted?: boolean;
  /**
   * Allow message updates, deletes, appends and annotations (Ably's "Message annotations, updates,
   * deletes and appends" channel rule); their channels keep the persisted log limits. @default false
   */
  mutableMessages?: boolean;
}

export interface AppConfig {
  id: string;
  keys: KeyConfig[];
  namespaces?: NamespaceConfig[];
  /** Refuse plain (non-TLS) connections and requests. @default false */
  tlsOnly?: boolean;
  /**
   * Web origins (`https://app.example.com`, `http://localhost:3000`) whose pages may use the app:
   * CORS requests, WebSocket upgrades, script tags and iframes from any other origin are refused
   * (40300). Requests from no page (servers, curl) are not affected. @default any origin
   */
  allowedOrigins?: string[];
}

/** A config problem, with the path of the field (`apps[0].keys[1].secret`). */
export class ConfigError extends Error {
  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function checkKeys(obj: Obj, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(obj))
    if (!allowed.includes(k))
      throw new ConfigError(path, `unknown field "${k}" (expected one of ${allowed.join(', ')})`);
}

function optBool(obj: Obj, field: string, path: string): boolean {
  const v = obj[field];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new ConfigError(`${path}.${field}`, 'must be true or false');
  return v;
}

function buildKey(raw: unknown, appId: string, path: string): ApiKey {
  if (!isObject(raw)) throw new ConfigError(path, 'must be an object');
  checkKeys(raw, ['id', 'secret', 'key', 'capability', 'revocableTokens'], path);
  let keyId = raw.id;
  let secret = raw.secret;
  if (raw.key !== undefined) {
    const parsed = typeof raw.key === 'string' ? parseKeyString(raw.key) : undefined;
    if (!parsed) throw new ConfigError(`${path}.key`, 'must look like appId.keyId:secret');
    if (parsed.appId !== appId)
      throw new ConfigError(`${path}.key`, `belongs to app "${parsed.appId}", not "${appId}"`);
    keyId = parsed.keyId;
    secret = parsed.secret;
  }
  if (typeof keyId !== 'string' || !KEY_ID_RE.test(keyId))
    throw new ConfigError(`${path}.id`, 'must be 1-64 characters of [A-Za-z0-9_-]');
  if (typeof secret !== 'string' || secret.length < 8)
    throw new ConfigError(`${path}.secret`, 'must be a string of at least 8 characters');
  let capability = FULL_CAPABILITY;
  if (raw.capability !== undefined) {
    try {
      capability = parseCapability(raw.capability);
    } catch (err) {
      throw new ConfigError(`${path}.capability`, (err as Error).message);
    }
  }
  return {
    appId,
    keyId,
    name: `${appId}.${keyId}`,
    secret,
    capability,
    revocableTokens: optBool(raw, 'revocableTokens', path),
  };
}

function buildNamespace(raw: unknown, path: string): Namespace {
  if (!isObject(raw)) throw new ConfigError(path, 'must be an object');
  checkKeys(raw, ['id', 'persisted', 'mutableMessages'], path);
  if (typeof raw.id !== 'string' || !/^[^:[\]\s]{1,100}$/.test(raw.id))
    throw new ConfigError(`${path}.id`, 'must be a name without ":", "[", "]" or spaces');
  return {
    id: raw.id,
    persisted: optBool(raw, 'persisted', path),
    mutableMessages: optBool(raw, 'mutableMessages', path),
  };
}

/** Validates one app description. */
export function buildApp(raw: unknown, path = 'app'): App {
  if (!isObject(raw)) throw new ConfigError(path, 'must be an object');
  checkKeys(raw, ['id', 'keys', 'namespaces', 'tlsOnly', 'allowedOrigins'], path);
  if (typeof raw.id !== 'string' || !APP_ID_RE.test(raw.id))
    throw new ConfigError(`${path}.id`, 'must be 1-64 characters of [A-Za-z0-9_-]');
  const appId = raw.id;
  if (!isArrayValue(raw.keys) || raw.keys.length === 0)
    throw new ConfigError(`${path}.keys`, 'must be a non-empty array');
  const keys = raw.keys.map((k, i) => buildKey(k, appId, `${path}.keys[${i}]`));
  const seen = new Set<string>();
  for (const [i, key] of keys.entries()) {
    if (seen.has(key.keyId)) throw new ConfigError(`${path}.keys[${i}].id`, `duplicate key id "${key.keyId}"`);
    seen.add(key.keyId);
  }
  const namespaces = new Map<string, Namespace>();
  if (raw.namespaces !== undefined) {
    if (!isArrayValue(raw.namespaces)) throw new ConfigError(`${path}.namespaces`, 'must be an array');
    raw.namespaces.forEach((n, i) => {
      const ns = buildNamespace(n, `${path}.namespaces[${i}]`);
      namespaces.set(ns.id, ns);
    });
  }
  const app: App = { id: appId, keys, namespaces, tlsOnly: optBool(raw, 'tlsOnly', path) };
  return raw.allowedOrigins === undefined
    ? app
    : { ...app, allowedOrigins: buildOrigins(raw.allowedOrigins, `${path}.allowedOrigins`) };
}

const ORIGIN_RE = /^https?:\/\/(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;

function buildOrigins(raw: unknown, path: string): string[] {
  if (!isArrayValue(raw)) throw new ConfigError(path, 'must be an array of origins');
  return raw.map((o, i) => {
    const origin = typeof o === 'string' ? o.toLowerCase() : '';
    if (!ORIGIN_RE.test(origin))
      throw new ConfigError(`${path}[${i}]`, 'must be an origin: scheme://host[:port], no path');
    return origin;
  });
}

/** Apps from config plus apps implied by `--key` strings (full capability). */
export function buildApps(configs: readonly unknown[], keyStrings: readonly string[]): App[] {
  const apps = configs.map((c, i) => buildApp(c, `apps[${i}]`));
  const byId = new Map(apps.map((a) => [a.id, a]));
  for (const [i, keyString] of keyStrings.entries()) {
    const parsed = parseKeyString(keyString);
    if (!parsed) throw new ConfigError(`keys[${i}]`, 'must look like appId.keyId:secret');
    const key = buildKey({ key: keyString }, parsed.appId, `keys[${i}]`);
    const app = byId.get(parsed.appId);
    if (app) {
      if (app.keys.some((k) => k.keyId === key.keyId)) throw new ConfigError(`keys[${i}]`, `duplicate key ${key.name}`);
      byId.set(app.id, { ...app, keys: [...app.keys, key] });
    } else {
      byId.set(parsed.appId, { id: parsed.appId, keys: [key], namespaces: new Map(), tlsOnly: false });
    }
  }
  return [...byId.values()];
}
