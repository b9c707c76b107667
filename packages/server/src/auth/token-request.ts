/**
 * `POST /keys/:keyName/requestToken` (Ably token-request-spec, ably-js auth.ts). Two forms:
 * - a signed TokenRequest `{keyName, ttl?, capability?, clientId?, timestamp, nonce, mac}`, where
 *   mac = base64(HMAC-SHA256(secret, "keyName\nttl\ncapability\nclientId\ntimestamp\nnonce\n")),
 *   missing values as empty strings; the mac is the proof, no Authorization header;
 * - basic auth with the key, and token params `{ttl?, capability?, clientId?}` as the body.
 *
 * Errors: mac mismatch 40101; timestamp outside `tokenRequestWindow` 40104; nonce reused within the
 * window 40105; malformed fields or capability 400; empty capability intersection 40160.
 */
import { createHmac } from 'node:crypto';
import { AblyError, Err, isPlainObject } from '@encke/protocol';
import type { ApiKey } from '../apps/app.js';
import type { AuthStore } from '../engine/auth-store.js';
import { parseCapability } from './capability.js';
import { secretsEqual } from './secret.js';
import type { TokenDetails, TokenParams, TokenService } from './tokens.js';

const MIN_NONCE_LENGTH = 16;
const MAX_NONCE_LENGTH = 256;
const MAX_CLIENT_ID_LENGTH = 1024;

type Obj = Record<string, unknown>;

function bad(message: string): never {
  throw new AblyError(Err.invalidParameterValue, message);
}

function optString(body: Obj, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') bad(`${field} must be a string`);
  return v;
}

/** ttl, capability and clientId, validated; capability as given (a JSON string or an object). */
export function parseTokenParams(body: Obj): TokenParams {
  const params: TokenParams = {};
  const ttl = body.ttl;
  if (ttl !== undefined && ttl !== null && ttl !== '') {
    if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl <= 0) bad('ttl must be a positive integer (ms)');
    params.ttl = ttl;
  }
  const capability = body.capability;
  // An empty capability means "the key's capability" (ably-js signs it as an empty string).
  if (capability !== undefined && capability !== null && capability !== '')
    params.capability = parseCapability(capability);
  const clientId = optString(body, 'clientId');
  if (clientId !== undefined) {
    if (clientId === '' || clientId.length > MAX_CLIENT_ID_LENGTH)
      throw new AblyError(Err.invalidClientId, 'clientId must be a non-empty string of at most 1024 characters');
    params.clientId = clientId;
  }
  return params;
}

/** The text ably-js signs: each field then a newline, missing ones empty (RSA9). */
function macText(body: Obj, keyName: string, timestamp: number, nonce: string): string {
  const field = (name: string): string => {
    const v = body[name];
    return v === undefined || v === null ? '' : typeof v === 'string' ? v : String(v);
  };
  return `${keyName}\n${field('ttl')}\n${field('capability')}\n${field('clientId')}\n${timestamp}\n${nonce}\n`;
}

export interface SignedRequestDeps {
  tokens: TokenService;
  store: AuthStore;
  now: number;
  window: number;
}

/**
 * Redeems a signed TokenRequest for `key`. `key` is undefined when the path names no known key;
 * the mac is then checked against a dummy secret, so the answer (40101) takes the same time.
 */
export async function redeemSignedRequest(
  deps: SignedRequestDeps,
  keyName: string,
  key: ApiKey | undefined,
  raw: unknown,
): Promise<TokenDetails> {
  if (!isPlainObject(raw)) throw new AblyError(Err.invalidRequestBody, 'The TokenRequest must be a JSON object');
  if (raw.keyName !== keyName)
    throw new AblyError(Err.invalidCredentials, 'TokenRequest keyName does not match the key in the path');
  const timestamp = raw.timestamp;
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp)) bad('timestamp must be a time in ms');
  const nonce = optString(raw, 'nonce');
  if (nonce === undefined || nonce.length < MIN_NONCE_LENGTH || nonce.length > MAX_NONCE_LENGTH)
    bad(`nonce must be ${MIN_NONCE_LENGTH} to ${MAX_NONCE_LENGTH} characters`);
  const mac = optString(raw, 'mac');
  if (mac === undefined) bad('mac is required');
  const expected = createHmac('sha256', key?.secret ?? '\u0000unknown-key\u0000')
    .update(macText(raw, keyName, timestamp, nonce))
    .digest('base64');
  if (!secretsEqual(mac, expected) || !key)
    throw new AblyError(Err.invalidCredentials, 'Invalid TokenRequest: mac does not match (or unknown key)');
  if (Math.abs(deps.now - timestamp) > deps.window)
    throw new AblyError(
      Err.timestampNotCurrent,
      'Timestamp not current: the TokenRequest is too old or from the future',
    );
  const details = deps.tokens.issue(key, parseTokenParams(raw));
  if (!(await deps.store.claimNonce(keyName, nonce, timestamp + deps.window))) {
    throw new AblyError(Err.nonceReplayed, 'Nonce value replayed: this TokenRequest has been used already');
  }
  return details;
}
