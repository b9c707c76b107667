/**
 * encke tokens: self-contained and signed, so any node verifies one without shared state.
 *
 *   e1~<base64url(JSON claims)>~<base64url(HMAC-SHA256(signing key, "e1~" + claims))>
 *
 * The signing key is derived from the secret of the key that issued the token, so removing the key
 * or changing its secret invalidates every token it issued. The claims name the key (`k`); they are
 * readable by the holder, like an Ably JWT's, but cannot be changed. `~` is URL-safe (the token goes
 * into `access_token=` unescaped) and never appears in a JWT, so the two cannot be confused.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AblyError, Err, decodeJson, decodeLimits, isPlainObject } from '@encke/protocol';
import { MAX_CAPABILITY_LENGTH } from './capability.js';

const VERSION = 'e1';
const SEPARATOR = '~';
const SIGNING_CONTEXT = 'encke token signing v1';
const SIGNATURE_BYTES = 32;
/** Claims text past this is not an encke token (the capability is bounded, everything else is small). */
const MAX_CLAIMS_LENGTH = Math.ceil(((MAX_CAPABILITY_LENGTH + 2048) * 4) / 3);

export interface TokenClaims {
  /** `appId.keyId` of the issuing key. */
  keyName: string;
  issued: number;
  expires: number;
  /** Canonical capability JSON. */
  capability: string;
  clientId?: string;
  /** The key allowed revocation when the token was issued. */
  revocable: boolean;
}

interface WireClaims {
  k: string;
  i: number;
  x: number;
  c: string;
  u?: string;
  r?: 1;
}

/** True when `token` has the shape of an encke token (it may still be forged or expired). */
export function isEnckeToken(token: string): boolean {
  return token.startsWith(VERSION + SEPARATOR);
}

function signingKey(secret: string): Buffer {
  return createHmac('sha256', secret).update(SIGNING_CONTEXT).digest();
}

function sign(secret: string, signed: string): Buffer {
  return createHmac('sha256', signingKey(secret)).update(signed).digest();
}

export function encodeToken(claims: TokenClaims, secret: string): string {
  const wire: WireClaims = { k: claims.keyName, i: claims.issued, x: claims.expires, c: claims.capability };
  if (claims.clientId !== undefined) wire.u = claims.clientId;
  if (claims.revocable) wire.r = 1;
  const signed = `${VERSION}${SEPARATOR}${Buffer.from(JSON.stringify(wire)).toString('base64url')}`;
  return `${signed}${SEPARATOR}${sign(secret, signed).toString('base64url')}`;
}

function unrecognised(why: string): never {
  throw new AblyError(Err.tokenUnrecognised, `Token unrecognised: ${why}`);
}

export interface DecodedToken {
  claims: TokenClaims;
  /** Checks the signature against the issuing key's secret (constant time). */
  verify(secret: string): boolean;
}

/** Reads an encke token's claims without trusting them yet; 40143 when it is not one. */
export function decodeToken(token: string): DecodedToken {
  const parts = token.split(SEPARATOR);
  if (parts.length !== 3 || parts[0] !== VERSION) unrecognised('not an encke token');
  const [, claimsText, signatureText] = parts as [string, string, string];
  if (claimsText.length > MAX_CLAIMS_LENGTH) unrecognised('too long');
  let raw: unknown;
  try {
    raw = decodeJson(Buffer.from(claimsText, 'base64url').toString('utf8'), decodeLimits(MAX_CLAIMS_LENGTH));
  } catch {
    unrecognised('malformed claims');
  }
  const claims = readClaims(raw);
  const signed = `${VERSION}${SEPARATOR}${claimsText}`;
  const signature = Buffer.from(signatureText, 'base64url');
  return {
    claims,
    verify: (secret) => signature.length === SIGNATURE_BYTES && timingSafeEqual(signature, sign(secret, signed)),
  };
}

function readClaims(raw: unknown): TokenClaims {
  if (!isPlainObject(raw)) unrecognised('malformed claims');
  const { k, i, x, c, u, r } = raw;
  if (typeof k !== 'string' || typeof c !== 'string' || !Number.isSafeInteger(i) || !Number.isSafeInteger(x))
    unrecognised('malformed claims');
  if (u !== undefined && typeof u !== 'string') unrecognised('malformed claims');
  const claims: TokenClaims = {
    keyName: k,
    issued: i as number,
    expires: x as number,
    capability: c,
    revocable: r === 1,
  };
  if (u !== undefined) claims.clientId = u;
  return claims;
}
