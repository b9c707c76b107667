/**
 * Turns credentials into an AuthContext: which app, which key, what capability, which clientId.
 * Basic auth (an API key) is checked here; tokens and JWTs go through the TokenVerifier the node
 * provides, so that every node can verify them without shared state.
 */
import { AblyError, Err } from '@encke/protocol';
import { parseKeyString, type ApiKey, type App } from '../apps/app.js';
import type { AppRegistry, KeyLookup } from '../apps/registry.js';
import type { Capability } from './capability.js';
import { secretMatches } from './secret.js';

export interface Credentials {
  /** A whole API key, `appId.keyId:secret` (basic auth). */
  key?: string;
  /** A token string: an encke token or an Ably JWT (token auth). */
  token?: string;
}

export interface AuthContext {
  readonly app: App;
  /** `appId.keyId` of the key the credentials derive from. */
  readonly keyName: string;
  readonly capability: Capability;
  readonly method: 'basic' | 'token';
  /** The clientId the credentials bind: a token's clientId (possibly `*`), never set for basic auth. */
  readonly clientId: string | undefined;
  /** Token issue and expiry times (ms); undefined for basic auth. */
  readonly issued?: number;
  readonly expires?: number;
  /** The token can be revoked: its key had `revocableTokens` when it was issued. */
  readonly revocable?: boolean;
  /** A JWT's `x-ably-revocation-key` claim, a revocation target (`revocationKey:<value>`). */
  readonly revocationKey?: string;
}

/** Verifies token strings; provided by the token module (issue: token auth). */
export interface TokenVerifier {
  verify(token: string): Promise<AuthContext>;
}

/** What a secret is compared with when no key has the name given (the same work as for a key that exists). */
const UNKNOWN_KEY_SECRET = '\u0000unknown-key\u0000';

/** Per key: its (immutable) basic-auth context, made once. */
const keyContexts = new WeakMap<ApiKey, AuthContext>();

/** The basic-auth context of `found` (made once per key). */
function contextOf(found: KeyLookup): AuthContext {
  let context = keyContexts.get(found.key);
  if (!context) {
    context = {
      app: found.app,
      keyName: found.key.name,
      capability: found.key.capability,
      method: 'basic',
      clientId: undefined,
    };
    keyContexts.set(found.key, context);
  }
  return context;
}

/** Checks `secret` against the key found (or a dummy when none was), in constant time either way. */
function verifyKey(secret: string, found: KeyLookup | undefined): AuthContext {
  // Compare against a dummy when the key is unknown, so timing does not tell which keys exist.
  const ok = secretMatches(secret, found?.key.secret ?? UNKNOWN_KEY_SECRET);
  if (!ok || !found)
    throw new AblyError(Err.invalidCredentials, 'Invalid credentials: key not recognised or secret wrong');
  return contextOf(found);
}

function parsedKey(key: string): { keyName: string; secret: string } {
  const parsed = parseKeyString(key);
  if (!parsed) throw new AblyError(Err.invalidCredentials, 'Invalid key: expected appId.keyId:secret');
  return { keyName: `${parsed.appId}.${parsed.keyId}`, secret: parsed.secret };
}

/**
 * Verifies an API key against the registry (configured apps, then the engine's app store for
 * sandbox apps); any mismatch is 40101, with no hint which part was wrong.
 */
export async function authenticateKey(registry: AppRegistry, key: string): Promise<AuthContext> {
  const { keyName, secret } = parsedKey(key);
  return verifyKey(secret, await registry.lookupKey(keyName));
}

export async function authenticate(
  registry: AppRegistry,
  tokens: TokenVerifier | undefined,
  creds: Credentials,
): Promise<AuthContext> {
  if (creds.key !== undefined) return authenticateKey(registry, creds.key);
  if (creds.token !== undefined) {
    if (!tokens) throw new AblyError(Err.tokenUnrecognised, 'Token authentication is not available');
    return tokens.verify(creds.token);
  }
  throw new AblyError(Err.invalidCredentials, 'No credentials: give key or access_token');
}

/**
 * `authenticate` without waiting, for credentials that need nothing asynchronous: an API key of a
 * configured app is verified here (the same constant-time check, the same errors); undefined when
 * the credentials need `authenticate` (a token, or a key the engine's app store may hold). Opening
 * a connection takes this path first, so that the common open answers CONNECTED in the upgrade's tick.
 */
export function authenticateNow(registry: AppRegistry, creds: Credentials): AuthContext | undefined {
  if (creds.key === undefined) return undefined;
  const { keyName, secret } = parsedKey(creds.key);
  const found = registry.configuredKey(keyName);
  return found ? verifyKey(secret, found) : undefined;
}

/**
 * An app with `tlsOnly` refuses plain connections and requests: 40103 for basic auth (the key
 * itself crossed the network in the clear), 40311 otherwise (Ably error docs for both codes).
 */
export function checkTls(auth: AuthContext, secure: boolean): void {
  if (secure || !auth.app.tlsOnly) return;
  if (auth.method === 'basic')
    throw new AblyError(
      Err.basicAuthOverNonTls,
      `Invalid use of Basic auth over non-TLS transport: application ${auth.app.id} requires TLS`,
    );
  throw new AblyError(Err.tlsRequired, `Application requires TLS connections; applicationId = ${auth.app.id}`);
}

/**
 * Refuses a request from a page whose origin the app does not allow (40300); any origin by default.
 * `origin` may be a function: headers are only looked at for apps that restrict origins.
 */
export function checkOrigin(auth: AuthContext, origin: string | undefined | (() => string | undefined)): void {
  const allowed = auth.app.allowedOrigins;
  if (allowed === undefined) return;
  if (typeof origin === 'function') origin = origin();
  if (origin === undefined || allowed.includes(origin)) return;
  throw new AblyError(Err.forbidden, `Origin ${origin.slice(0, 100)} is not allowed for application ${auth.app.id}`);
}

/**
 * The clientId a connection runs as (RSA7, RSA12): basic auth may claim any clientId; a token's
 * clientId is binding, `*` lets the connection pick one. `*` itself is never an identity.
 */
export function resolveClientId(auth: AuthContext, requested: string | undefined): string | undefined {
  if (requested !== undefined && (requested === '' || requested === '*')) {
    throw new AblyError(Err.invalidClientId, `Invalid clientId ${JSON.stringify(requested)}`);
  }
  if (auth.method === 'basic') return requested;
  const bound = auth.clientId;
  if (bound === '*') return requested ?? '*';
  if (requested !== undefined && requested !== bound) {
    throw new AblyError(
      Err.incompatibleCredentials,
      `Mismatched clientId: the token is for ${JSON.stringify(bound ?? null)}, the connection asked for ${JSON.stringify(requested)}`,
    );
  }
  return bound;
}

/**
 * The clientId a message or presence item may carry on a connection whose clientId is
 * `connectionClientId` (`*` = wildcard, undefined = anonymous basic auth). Throws 40012 on spoofing.
 */
export function checkItemClientId(
  auth: AuthContext,
  connectionClientId: string | undefined,
  itemClientId: string | undefined,
): string | undefined {
  if (itemClientId === undefined) return connectionClientId === '*' ? undefined : connectionClientId;
  if (itemClientId === '' || itemClientId === '*')
    throw new AblyError(Err.invalidClientId, `Invalid clientId ${JSON.stringify(itemClientId)}`);
  if (connectionClientId === '*' || itemClientId === connectionClientId) return itemClientId;
  if (connectionClientId === undefined && auth.method === 'basic') return itemClientId;
  throw new AblyError(
    Err.invalidClientId,
    `Mismatched clientId: the connection is ${JSON.stringify(connectionClientId ?? null)}, the message says ${JSON.stringify(itemClientId)}`,
  );
}
