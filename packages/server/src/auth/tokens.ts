/**
 * Issuing and verifying tokens: encke tokens (token-codec.ts) and Ably JWTs (jwt.ts). This is the
 * node's TokenVerifier. Verification needs no shared state except the revocation list, which is
 * read only for tokens of keys with `revocableTokens`.
 *
 * Capability: a token's capability is always intersected with its key's current capability, so
 * narrowing a key narrows the tokens already issued from it.
 */
import { AblyError, Err } from '@encke/protocol';
import type { ApiKey, App } from '../apps/app.js';
import type { AppRegistry } from '../apps/registry.js';
import type { AuthStore } from '../engine/auth-store.js';
import type { ResolvedOptions } from '../options.js';
import type { Clock } from '../util/clock.js';
import type { AuthContext, TokenVerifier } from './authenticate.js';
import { capabilityToJson, intersectCapabilities, parseCapability, type Capability } from './capability.js';
import { jwtKeyName, looksLikeJwt, verifyJwt } from './jwt.js';
import { tokenTargets } from './revocation.js';
import { decodeToken, encodeToken, isEnckeToken } from './token-codec.js';

/** TokenRequest ttl when none is given (Ably: 60 minutes). */
export const DEFAULT_TOKEN_TTL = 3_600_000;

/** What `POST /keys/:keyName/requestToken` answers (always JSON). */
export interface TokenDetails {
  token: string;
  keyName: string;
  issued: number;
  expires: number;
  /** Canonical capability JSON. */
  capability: string;
  clientId?: string;
}

export interface TokenParams {
  ttl?: number;
  capability?: Capability;
  clientId?: string;
}

export interface TokenServiceDeps {
  apps: AppRegistry;
  store: AuthStore;
  clock: Clock;
  options: Pick<ResolvedOptions, 'maxTokenTtl' | 'maxRevocableTokenTtl' | 'tokenRequestWindow'>;
}

export class TokenService implements TokenVerifier {
  constructor(private readonly deps: TokenServiceDeps) {}

  /** Issues a token from `key`: the requested capability within the key's, the ttl within bounds. */
  issue(key: ApiKey, params: TokenParams): TokenDetails {
    const { maxTokenTtl, maxRevocableTokenTtl } = this.deps.options;
    let ttl = params.ttl ?? DEFAULT_TOKEN_TTL;
    if (ttl > maxTokenTtl)
      throw new AblyError(Err.invalidParameterValue, `Invalid ttl ${ttl}: at most ${maxTokenTtl} ms`);
    // Revocable tokens live briefly, so that a revocation is complete once they have expired.
    if (key.revocableTokens) ttl = Math.min(ttl, maxRevocableTokenTtl);
    const capability = params.capability ? intersectCapabilities(key.capability, params.capability) : key.capability;
    if (capability.size === 0)
      throw new AblyError(
        Err.capabilityDenied,
        'Requested capability is not permitted by the key (empty intersection)',
      );
    const issued = this.deps.clock.now();
    const details: TokenDetails = {
      token: '',
      keyName: key.name,
      issued,
      expires: issued + ttl,
      capability: capabilityToJson(capability),
    };
    if (params.clientId !== undefined) details.clientId = params.clientId;
    details.token = encodeToken({ ...details, revocable: key.revocableTokens }, key.secret);
    return details;
  }

  async verify(token: string): Promise<AuthContext> {
    let auth: AuthContext;
    if (isEnckeToken(token)) auth = await this.verifyEnckeToken(token);
    else if (looksLikeJwt(token)) auth = await this.verifyJwt(token);
    else throw new AblyError(Err.tokenUnrecognised, 'Token unrecognised: neither an encke token nor a JWT');
    if (await this.isRevoked(auth)) throw new AblyError(Err.tokenRevoked, 'Token revoked');
    return auth;
  }

  /** Whether a revocation that already applies covers the token behind `auth`. */
  async isRevoked(auth: AuthContext): Promise<boolean> {
    if (!auth.revocable || auth.issued === undefined) return false;
    const targets = tokenTargets(auth);
    if (targets.length === 0) return false;
    const now = this.deps.clock.now();
    const found = await this.deps.store.revocations(auth.keyName, targets);
    return found.some((r) => auth.issued! < r.issuedBefore && r.appliesAt <= now);
  }

  private async verifyEnckeToken(token: string): Promise<AuthContext> {
    const decoded = decodeToken(token);
    const { claims } = decoded;
    const found = await this.keyAndApp(claims.keyName);
    // An unknown key and a bad signature look the same: a forged token learns nothing.
    if (!found || !decoded.verify(found.key.secret))
      throw new AblyError(Err.tokenUnrecognised, 'Token unrecognised: signature or key not valid');
    if (claims.expires <= this.deps.clock.now()) throw new AblyError(Err.tokenExpired, 'Token expired');
    const capability = this.effectiveCapability(found.key, parseCapability(claims.capability));
    return {
      app: found.app,
      keyName: claims.keyName,
      capability,
      method: 'token',
      clientId: claims.clientId,
      issued: claims.issued,
      expires: claims.expires,
      revocable: claims.revocable,
    };
  }

  private async verifyJwt(token: string): Promise<AuthContext> {
    const found = await this.keyAndApp(jwtKeyName(token));
    if (!found) throw new AblyError(Err.invalidJwt, 'Invalid JWT: kid names no known key');
    const { key, app } = found;
    const { maxTokenTtl, maxRevocableTokenTtl, tokenRequestWindow } = this.deps.options;
    const claims = await verifyJwt(token, key, {
      now: this.deps.clock.now(),
      maxAge: key.revocableTokens ? Math.min(maxTokenTtl, maxRevocableTokenTtl) : maxTokenTtl,
      maxSkew: tokenRequestWindow,
    });
    const auth: AuthContext = {
      app,
      keyName: key.name,
      capability: this.effectiveCapability(key, claims.capability),
      method: 'token',
      clientId: claims.clientId,
      issued: claims.issued,
      expires: claims.expires,
      revocable: key.revocableTokens,
    };
    return claims.revocationKey !== undefined ? { ...auth, revocationKey: claims.revocationKey } : auth;
  }

  private effectiveCapability(key: ApiKey, tokenCapability: Capability): Capability {
    const capability = intersectCapabilities(key.capability, tokenCapability);
    if (capability.size === 0) throw new AblyError(Err.capabilityDenied, 'The token grants nothing its key permits');
    return capability;
  }

  /** The key and its app, configured or created in sandbox mode (held by the engine). */
  private keyAndApp(keyName: string): Promise<{ key: ApiKey; app: App } | undefined> {
    return this.deps.apps.lookupKey(keyName);
  }
}
