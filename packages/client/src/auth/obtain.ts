/**
 * Getting a token from an authUrl, signing a TokenRequest with the key, and exchanging a
 * TokenRequest for a token (`POST /keys/<keyName>/requestToken`). Loaded only when a client
 * uses one of them: a page with an authCallback that returns tokens never downloads it.
 */
import type { EntriesOf, ParseJson } from '../util/unknown.js';
import type { Kit } from '../kit.js';
import { getJson } from '../util/json-request.js';
import type { ResolvedOptions } from '../options.js';
import type { HttpContext } from '../util/http.js';
import type { TokenDetails, TokenLike, TokenParams, TokenRequest } from './types.js';

const DEFAULT_TOKEN_TTL_MS = 60 * 60 * 1000;

export interface ObtainContext {
  kit: Kit;
  options: ResolvedOptions;
  http: HttpContext;
  baseUrl: string;
}

/** GET (query) or POST (form) to the authUrl; JSON answers are TokenDetails or TokenRequests, text is a token. */
export async function fromAuthUrl(c: ObtainContext, authUrl: string, params: TokenParams): Promise<TokenLike> {
  const o = c.options;
  const fields: Record<string, string> = { ...o.authParams };
  for (const [k, v] of (Object.entries as EntriesOf)(params)) if (v !== undefined) fields[k] = String(v);
  const post = o.authMethod === 'POST';
  const headers: Record<string, string> = { ...o.authHeaders };
  if (post) headers['content-type'] = 'application/x-www-form-urlencoded';
  const res = await c.http.fetch(post ? authUrl : c.kit.withQuery(authUrl, fields), {
    method: post ? 'POST' : 'GET',
    headers,
    ...(post ? { body: new URLSearchParams(fields).toString() } : {}),
  });
  const text = await res.text();
  if (!res.ok)
    throw new c.kit.ErrorInfo(
      `authUrl answered ${res.status}: ${text.slice(0, 200)}`,
      c.kit.Err.authCallbackFailed.code,
      res.status,
    );
  return (res.headers.get('content-type') ?? '').includes('json')
    ? asTokenLike(c, (JSON.parse as ParseJson)(text))
    : text.trim();
}

/** An authUrl's JSON (the network's: checked): a token string, TokenDetails or a TokenRequest, else authCallbackFailed (80019). */
function asTokenLike(c: ObtainContext, value: unknown): TokenLike {
  if (typeof value === 'string' || isTokenDetails(value) || isTokenRequest(value)) return value;
  throw c.kit.ErrorInfo.of(
    c.kit.Err.authCallbackFailed,
    'authUrl answered JSON that is no token, TokenDetails or TokenRequest',
  );
}

function isTokenDetails(v: unknown): v is TokenDetails {
  return typeof v === 'object' && v !== null && 'token' in v && typeof v.token === 'string';
}

function isTokenRequest(v: unknown): v is TokenRequest {
  return (
    typeof v === 'object' &&
    v !== null &&
    'keyName' in v &&
    typeof v.keyName === 'string' &&
    'mac' in v &&
    typeof v.mac === 'string' &&
    'nonce' in v &&
    typeof v.nonce === 'string' &&
    'timestamp' in v &&
    typeof v.timestamp === 'number'
  );
}

/** A TokenRequest signed with the key: HMAC-SHA256 over its fields, base64 (RSA9). */
export async function signTokenRequest(c: ObtainContext, params: TokenParams): Promise<TokenRequest> {
  const { kit } = c;
  const key = c.options.key ?? '';
  const colon = key.indexOf(':');
  const keyName = key.slice(0, colon);
  const ttl = params.ttl ?? DEFAULT_TOKEN_TTL_MS;
  const capability = params.capability ?? '';
  const clientId = params.clientId ?? '';
  const timestamp = params.timestamp ?? c.options.clock.now();
  const nonce = params.nonce ?? kit.randomId(16);
  const text = `${keyName}\n${ttl}\n${capability}\n${clientId}\n${timestamp}\n${nonce}\n`;
  const hmacKey = await crypto.subtle.importKey(
    'raw',
    kit.utf8Encode(key.slice(colon + 1)),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = kit.toBase64(new Uint8Array(await crypto.subtle.sign('HMAC', hmacKey, kit.utf8Encode(text))));
  const req: TokenRequest = { keyName, ttl, timestamp, nonce, mac };
  if (capability) req.capability = capability;
  if (clientId) req.clientId = clientId;
  return req;
}

/** Exchanges a signed TokenRequest for TokenDetails. */
export async function requestToken(c: ObtainContext, req: TokenRequest): Promise<TokenDetails> {
  const { body } = await getJson(c.kit, c.http, `${c.baseUrl}/keys/${encodeURIComponent(req.keyName)}/requestToken`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(req),
    timeoutMs: c.options.realtimeRequestTimeout,
  });
  // The network's answer, checked as a malformed answer is (getJson): not cast.
  if (isTokenDetails(body)) return body;
  throw c.kit.ErrorInfo.of(c.kit.Err.internal, 'requestToken answered JSON that is no TokenDetails');
}
