/**
 * Token revocation (Ably docs, auth/revocation): `POST /keys/:keyName/revokeTokens` with basic auth
 * and `{targets: ["clientId:x", "revocationKey:y"], issuedBefore?, allowReauthMargin?}` revokes the
 * revocable tokens of that key matching a target and issued before `issuedBefore` (default: now).
 * With `allowReauthMargin` the revocation applies 30 s later, and holders are first asked to
 * re-authenticate. Pure functions; the store and the enforcement on live connections live elsewhere.
 */
import { AblyError, Err, isPlainObject, type ErrorInfo, isArrayValue } from '@encke/protocol';
import type { TokenRevocation } from '../engine/auth-store.js';
import type { AuthContext } from './authenticate.js';

/** How long `allowReauthMargin` postpones a revocation (Ably docs: 30 seconds). */
export const REAUTH_MARGIN = 30_000;
/** `issuedBefore` may be at most this far in the past (Ably docs: an hour). */
export const MAX_ISSUED_BEFORE_AGE = 3_600_000;
const MAX_TARGET_LENGTH = 1024;

/** The revocation targets a token matches. */
export function tokenTargets(auth: AuthContext): string[] {
  const targets: string[] = [];
  if (auth.clientId !== undefined) targets.push(`clientId:${auth.clientId}`);
  if (auth.revocationKey !== undefined) targets.push(`revocationKey:${auth.revocationKey}`);
  return targets;
}

/** Whether `revocation` covers the token behind `auth` (whether or not it applies yet). */
export function revocationCovers(revocation: TokenRevocation, auth: AuthContext): boolean {
  return (
    auth.method === 'token' &&
    auth.revocable === true &&
    auth.keyName === revocation.keyName &&
    auth.issued !== undefined &&
    auth.issued < revocation.issuedBefore &&
    tokenTargets(auth).includes(revocation.target)
  );
}

export interface RevokeRequest {
  targets: string[];
  issuedBefore: number;
  appliesAt: number;
}

/** Validates a revokeTokens body; 40000/40003 for the request as a whole. */
export function parseRevokeRequest(body: unknown, now: number, maxTargets: number): RevokeRequest {
  if (!isPlainObject(body)) throw new AblyError(Err.invalidRequestBody, 'revokeTokens body must be an object');
  const { targets, issuedBefore, allowReauthMargin } = body;
  if (!isArrayValue(targets) || targets.length === 0)
    throw new AblyError(Err.invalidRequestBody, 'targets must be a non-empty array of "type:value" strings');
  if (targets.length > maxTargets)
    throw new AblyError(Err.invalidRequestBody, `At most ${maxTargets} targets per request`);
  if (!targets.every((t): t is string => typeof t === 'string'))
    throw new AblyError(Err.invalidRequestBody, 'targets must be strings');
  let before = now;
  if (issuedBefore !== undefined && issuedBefore !== null) {
    if (typeof issuedBefore !== 'number' || !Number.isSafeInteger(issuedBefore))
      throw new AblyError(Err.invalidParameterValue, 'issuedBefore must be a time in ms');
    if (issuedBefore > now || issuedBefore < now - MAX_ISSUED_BEFORE_AGE) {
      throw new AblyError(
        Err.invalidParameterValue,
        'issuedBefore must not be in the future or more than an hour in the past',
      );
    }
    before = issuedBefore;
  }
  if (allowReauthMargin !== undefined && allowReauthMargin !== null && typeof allowReauthMargin !== 'boolean') {
    throw new AblyError(Err.invalidParameterValue, 'allowReauthMargin must be true or false');
  }
  return {
    targets: [...targets],
    issuedBefore: before,
    appliesAt: allowReauthMargin === true ? now + REAUTH_MARGIN : now,
  };
}

/** Why a single target cannot be revoked, or undefined when it can. */
export function targetError(target: string): ErrorInfo | undefined {
  const colon = target.indexOf(':');
  const type = colon < 0 ? '' : target.slice(0, colon);
  const value = colon < 0 ? '' : target.slice(colon + 1);
  if (type === 'channel')
    return new AblyError(
      Err.revocationNotEnabled,
      'Revocation by channel is not supported by this server',
    ).toErrorInfo();
  if ((type !== 'clientId' && type !== 'revocationKey') || value === '' || target.length > MAX_TARGET_LENGTH) {
    return new AblyError(
      Err.invalidParameterValue,
      `Invalid target ${JSON.stringify(target.slice(0, 100))}: expected clientId:<id> or revocationKey:<key>`,
    ).toErrorInfo();
  }
  return undefined;
}
