/**
 * Ably JWTs (Ably docs, auth/token/jwt): header `{"typ":"JWT","alg":"HS256","kid":"<keyName>"}`,
 * signed with the key's secret; claims `iat`, `exp` (seconds), `x-ably-capability` (a JSON string),
 * optional `x-ably-clientId` and `x-ably-revocation-key`. Verified with `jose`; only HS256 is
 * accepted, so `alg: none` and every other algorithm are refused.
 *
 * Codes: anything malformed, unsigned or wrongly signed is 40144; expired is 40142 (the SDK renews).
 */
import { AblyError, Err } from '@encke/protocol';
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { ApiKey } from '../apps/app.js';
import { parseCapability, type Capability } from './capability.js';

const ALGORITHMS = ['HS256'];
/** A JWT is three base64url parts separated by dots. */
const JWT_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export interface JwtClaims {
  keyName: string;
  issued: number;
  expires: number;
  capability: Capability;
  clientId?: string;
  revocationKey?: string;
}

export function looksLikeJwt(token: string): boolean {
  return JWT_RE.test(token);
}

function invalid(message: string, cause?: unknown): never {
  throw new AblyError(Err.invalidJwt, `Invalid JWT: ${message}`, { cause });
}

/** The `kid` of a JWT's header: the name of the key that should have signed it. */
export function jwtKeyName(token: string): string {
  let kid: unknown;
  try {
    kid = decodeProtectedHeader(token).kid;
  } catch (err) {
    invalid('the header is not valid base64url JSON', err);
  }
  if (typeof kid !== 'string' || kid === '') invalid('the header has no kid (the key name)');
  return kid;
}

export interface JwtVerifyOptions {
  now: number;
  /**
   * Longest life (ms) from `iat`: a JWT whose `exp` is further away lives only this long, like a
   * TokenRequest's ttl is bounded by `maxTokenTtl` (and `maxRevocableTokenTtl` for revocable keys).
   */
  maxAge: number;
  /** How far (ms) `iat` may be ahead of the server's clock (the clients' clock skew). */
  maxSkew: number;
}

/**
 * Verifies signature and times, then reads the Ably claims. `expires` is the earlier of `exp` and
 * `iat + maxAge`; a JWT already past it is expired (40142), one issued further than `maxSkew` in
 * the future is invalid (40144).
 */
export async function verifyJwt(token: string, key: ApiKey, options: JwtVerifyOptions): Promise<JwtClaims> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, Buffer.from(key.secret, 'utf8'), {
      algorithms: ALGORITHMS,
      currentDate: new Date(options.now),
      requiredClaims: ['exp', 'iat'],
    }));
  } catch (err) {
    if (err instanceof errors.JWTExpired)
      throw new AblyError(Err.tokenExpired, 'Token expired: the JWT is past its exp (or too old for a revocable key)');
    if (err instanceof errors.JOSEAlgNotAllowed) invalid('only HS256 is accepted', err);
    if (err instanceof errors.JWSSignatureVerificationFailed) invalid('signature verification failed', err);
    if (err instanceof errors.JOSEError) invalid(err.message, err);
    throw err;
  }
  const claims = readAblyClaims(payload, key.name);
  if (claims.issued > options.now + options.maxSkew) invalid('iat is in the future');
  claims.expires = Math.min(claims.expires, claims.issued + options.maxAge);
  if (claims.expires <= options.now)
    throw new AblyError(
      Err.tokenExpired,
      'Token expired: the JWT is older than the longest token life this server allows',
    );
  return claims;
}

function readAblyClaims(payload: JWTPayload, keyName: string): JwtClaims {
  const capabilityText = payload['x-ably-capability'];
  if (typeof capabilityText !== 'string') invalid('x-ably-capability must be a JSON string');
  let capability: Capability;
  try {
    capability = parseCapability(capabilityText);
  } catch (err) {
    invalid(`x-ably-capability: ${(err as Error).message}`, err);
  }
  const claims: JwtClaims = { keyName, issued: payload.iat! * 1000, expires: payload.exp! * 1000, capability };
  const clientId = payload['x-ably-clientId'];
  if (clientId !== undefined) {
    if (typeof clientId !== 'string' || clientId === '') invalid('x-ably-clientId must be a non-empty string');
    claims.clientId = clientId;
  }
  const revocationKey = payload['x-ably-revocation-key'];
  if (revocationKey !== undefined) {
    if (typeof revocationKey !== 'string' || revocationKey === '')
      invalid('x-ably-revocation-key must be a non-empty string');
    claims.revocationKey = revocationKey;
  }
  return claims;
}
