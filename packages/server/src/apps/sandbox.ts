/**
 * Sandbox apps (`POST /apps` in sandbox mode): the app description SDK test suites send (ably-common
 * `test-app-setup.json`, `post_apps`) validated into an AppRecord with generated key ids and
 * secrets, and the answer those suites read (`appId`, `keys[].keyStr`, …).
 *
 * Known fields are checked strictly; fields this server has no use for (e.g. a namespace's
 * `pushEnabled`, or top-level settings of other Ably versions) are accepted, ignored and, for
 * namespaces, echoed back, because the same description serves every SDK's suite.
 */
import { AblyError, Err, isPlainObject } from '@encke/protocol';
import { capabilityToJson, FULL_CAPABILITY, parseCapability } from '../auth/capability.js';
import { randomAlnum, randomId } from '../util/ids.js';
import { buildApp, ConfigError, type AppConfig, type KeyConfig, type NamespaceConfig } from './config.js';
import type { AppRecord, ChannelFixture, PresenceFixture } from './record.js';

/** The account every sandbox app belongs to. */
export const SANDBOX_ACCOUNT_ID = 'encke-sandbox';
const MAX_KEYS = 100;
const MAX_NAMESPACES = 100;
const MAX_CHANNELS = 100;
const MAX_MEMBERS_PER_CHANNEL = 1000;

type Obj = Record<string, unknown>;

export interface SandboxApp {
  record: AppRecord;
  /** The namespaces as described (flags this server ignores included), to echo back. */
  namespaces: Obj[];
}

function bad(where: string, problem: string): never {
  throw new AblyError(Err.invalidRequestBody, `Invalid app description: ${where} ${problem}`);
}

function list(raw: Obj, field: string, max: number): unknown[] {
  const v = raw[field];
  if (v === undefined) return [];
  if (!Array.isArray(v)) bad(field, 'must be an array');
  if (v.length > max) bad(field, `may hold at most ${max} entries`);
  return v;
}

function optBool(obj: Obj, field: string, where: string): boolean | undefined {
  const v = obj[field];
  if (v !== undefined && typeof v !== 'boolean') bad(`${where}.${field}`, 'must be true or false');
  return v;
}

function optString(obj: Obj, field: string, where: string): string | undefined {
  const v = obj[field];
  if (v !== undefined && typeof v !== 'string') bad(`${where}.${field}`, 'must be a string');
  return v;
}

function parseKey(raw: unknown, where: string, keyId: string): KeyConfig {
  if (!isPlainObject(raw)) bad(where, 'must be an object');
  let capability = FULL_CAPABILITY;
  if (raw.capability !== undefined) {
    try {
      capability = parseCapability(raw.capability);
    } catch (err) {
      bad(`${where}.capability`, (err as Error).message);
    }
  }
  const key: KeyConfig = { id: keyId, secret: randomId(24), capability: capabilityToJson(capability) };
  if (optBool(raw, 'revocableTokens', where)) key.revocableTokens = true;
  return key;
}

function parseNamespace(raw: unknown, where: string): { config: NamespaceConfig; echo: Obj } {
  if (!isPlainObject(raw)) bad(where, 'must be an object');
  const id = optString(raw, 'id', where);
  if (id === undefined) bad(`${where}.id`, 'is required');
  const config: NamespaceConfig = { id };
  if (optBool(raw, 'persisted', where)) config.persisted = true;
  if (optBool(raw, 'mutableMessages', where)) config.mutableMessages = true;
  const echo: Obj = { id, persisted: config.persisted ?? false, mutableMessages: config.mutableMessages ?? false };
  for (const [k, v] of Object.entries(raw)) {
    if (!(k in echo) && (typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string')) echo[k] = v;
  }
  return { config, echo };
}

function parseMember(raw: unknown, where: string): PresenceFixture {
  if (!isPlainObject(raw)) bad(where, 'must be an object');
  const clientId = optString(raw, 'clientId', where);
  if (!clientId) bad(`${where}.clientId`, 'is required');
  const member: PresenceFixture = { clientId };
  const data = optString(raw, 'data', where);
  if (data !== undefined) member.data = data;
  const encoding = optString(raw, 'encoding', where);
  if (encoding !== undefined) member.encoding = encoding;
  return member;
}

function parseChannel(raw: unknown, where: string): ChannelFixture {
  if (!isPlainObject(raw)) bad(where, 'must be an object');
  const name = optString(raw, 'name', where);
  if (!name) bad(`${where}.name`, 'is required');
  return {
    name,
    presence: list(raw, 'presence', MAX_MEMBERS_PER_CHANNEL).map((m, i) => parseMember(m, `${where}.presence[${i}]`)),
  };
}

function parseLimits(raw: unknown): Record<string, Record<string, number>> {
  if (!isPlainObject(raw)) bad('limits', 'must be an object');
  const out: Record<string, Record<string, number>> = {};
  for (const [group, values] of Object.entries(raw)) {
    if (!isPlainObject(values)) bad(`limits.${group}`, 'must be an object of numbers');
    out[group] = {};
    for (const [k, v] of Object.entries(values)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) bad(`limits.${group}.${k}`, 'must be a number');
      out[group][k] = v;
    }
  }
  return out;
}

/** Validates an app description into a new app `appId` that lives `ttl` ms from `now`. */
export function parseAppDescription(raw: unknown, appId: string, now: number, ttl: number): SandboxApp {
  if (!isPlainObject(raw)) bad('body', 'must be a JSON object');
  const keyIds = new Set<string>();
  const newKeyId = (): string => {
    let id = randomAlnum(6);
    while (keyIds.has(id)) id = randomAlnum(6);
    keyIds.add(id);
    return id;
  };
  const keys = (raw.keys === undefined ? [{}] : list(raw, 'keys', MAX_KEYS)).map((k, i) =>
    parseKey(k, `keys[${i}]`, newKeyId()),
  );
  if (keys.length === 0) bad('keys', 'must hold at least one key');
  const namespaces = list(raw, 'namespaces', MAX_NAMESPACES).map((n, i) => parseNamespace(n, `namespaces[${i}]`));
  const config: AppConfig = { id: appId, keys, namespaces: namespaces.map((n) => n.config) };
  try {
    buildApp(config, 'app');
  } catch (err) {
    if (err instanceof ConfigError) bad('', err.message);
    throw err;
  }
  const record: AppRecord = {
    config,
    accountId: SANDBOX_ACCOUNT_ID,
    created: now,
    expires: now + ttl,
    ...(raw.limits !== undefined ? { limits: parseLimits(raw.limits) } : {}),
    ...(raw.channels !== undefined
      ? { channels: list(raw, 'channels', MAX_CHANNELS).map((c, i) => parseChannel(c, `channels[${i}]`)) }
      : {}),
  };
  return { record, namespaces: namespaces.map((n) => n.echo) };
}

/** Where clients reach the server that created the app. */
export interface SandboxEndpoint {
  endpoint: string;
  port: number;
  tls: boolean;
}

/** The answer to `POST /apps`: the app with its keys as strings (`keyStr` is what test suites use). */
export function describeApp(app: SandboxApp, where: SandboxEndpoint): Obj {
  const { record } = app;
  const appId = record.config.id;
  const stamps = { created: record.created, modified: record.created };
  return {
    appId,
    accountId: record.accountId,
    keys: record.config.keys.map((k) => ({
      id: k.id,
      value: k.secret,
      keyName: `${appId}.${k.id}`,
      keySecret: k.secret,
      keyStr: `${appId}.${k.id}:${k.secret}`,
      capability: k.capability,
      revocableTokens: k.revocableTokens ?? false,
      status: 0,
      ...stamps,
    })),
    namespaces: app.namespaces.map((n) => ({ ...n, ...stamps })),
    channels: record.channels ?? [],
    limits: record.limits ?? {},
    ...where,
    ...stamps,
    expires: record.expires,
  };
}
