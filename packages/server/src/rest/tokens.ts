/**
 * Token endpoints: `POST /keys/:keyName/requestToken` (auth/token-request.ts) and
 * `POST /keys/:keyName/revokeTokens` (auth/revocation.ts).
 *
 * requestToken always answers JSON (ably-js parses it as JSON whatever its protocol); revokeTokens
 * answers in the format of Accept, like every other REST endpoint.
 */
import type { TokenDetails } from '../auth/tokens.js';
import { AblyError, Err, isPlainObject, type ErrorInfo } from '@encke/protocol';
import type { ApiKey } from '../apps/app.js';
import { authenticateKey, checkTls, type AuthContext } from '../auth/authenticate.js';
import { MAX_CAPABILITY_LENGTH } from '../auth/capability.js';
import { credentialsFromHeader } from '../auth/credentials.js';
import { parseRevokeRequest, targetError } from '../auth/revocation.js';
import { parseTokenParams, redeemSignedRequest } from '../auth/token-request.js';
import { decodeBody, readBody, requestFormat, responseFormat, sendBody } from '../http/body.js';
import { sendJson } from '../http/respond.js';
import type { HttpRequest, Router } from '../http/router.js';
import type { TokenRevocation } from '../engine/auth-store.js';
import type { NodeContext } from '../context.js';

/**
 * Largest body either endpoint reads: a capability JSON-escaped inside the TokenRequest (at most
 * twice its length) plus the other fields, or the targets of one revokeTokens request.
 */
export const TOKEN_BODY_LIMIT = 2 * MAX_CAPABILITY_LENGTH + 16 * 1024;

/**
 * Basic auth with the key named in the path (configured or sandbox); 40162 for token auth, 40102
 * for another key. Checked before the body is read.
 */
async function basicAuthFor(
  ctx: NodeContext,
  request: HttpRequest,
  keyName: string,
): Promise<{ auth: AuthContext; key: ApiKey }> {
  const creds = credentialsFromHeader(request.req.headers.authorization);
  if (!creds || creds.key === undefined)
    throw new AblyError(Err.basicAuthRequired, 'This operation requires basic auth with the API key');
  const auth = await authenticateKey(ctx.apps, creds.key);
  if (auth.keyName !== keyName)
    throw new AblyError(Err.incompatibleCredentials, `The credentials are for key ${auth.keyName}, not ${keyName}`);
  checkTls(auth, request.secure);
  const key = auth.app.keys.find((k) => k.name === keyName);
  if (!key) throw new AblyError(Err.invalidCredentials, 'Invalid credentials: key not recognised');
  return { auth, key };
}

/** The body, read and decoded within TOKEN_BODY_LIMIT (and the decoders' depth and length bounds). */
async function readJsonOrMsgpack(request: HttpRequest): Promise<unknown> {
  const format = requestFormat(request.req);
  const body = await readBody(request.req, TOKEN_BODY_LIMIT);
  return decodeBody(body, format, TOKEN_BODY_LIMIT);
}

async function requestToken(ctx: NodeContext, request: HttpRequest): Promise<void> {
  const keyName = request.params.keyName!;
  let details: TokenDetails;
  if (request.req.headers.authorization !== undefined) {
    const { key } = await basicAuthFor(ctx, request, keyName);
    const body = await readJsonOrMsgpack(request);
    if (!isPlainObject(body)) throw new AblyError(Err.invalidRequestBody, 'Token params must be a JSON object');
    details = ctx.tokens.issue(key, parseTokenParams(body));
  } else {
    // A signed TokenRequest: the body is the credential, so it is read (bounded) in any case; the
    // key is looked up first, so a tlsOnly app refuses before anything is decoded.
    const found = await ctx.apps.lookupKey(keyName);
    if (found?.app.tlsOnly && !request.secure)
      throw new AblyError(Err.tlsRequired, `Application requires TLS connections; applicationId = ${found.app.id}`);
    const body = await readJsonOrMsgpack(request);
    const deps = {
      tokens: ctx.tokens,
      store: ctx.engine.auth,
      now: ctx.clock.now(),
      window: ctx.options.tokenRequestWindow,
    };
    details = await redeemSignedRequest(deps, keyName, found?.key, body);
  }
  sendJson(request.res, 200, details);
}

type RevokeResult = { target: string; issuedBefore: number; appliesAt: number } | { target: string; error: ErrorInfo };

async function revokeTokens(ctx: NodeContext, request: HttpRequest): Promise<void> {
  const keyName = request.params.keyName!;
  const { key } = await basicAuthFor(ctx, request, keyName);
  if (!key.revocableTokens) {
    throw new AblyError(
      Err.revocationNotEnabledForKey,
      `Token revocation is not enabled for key ${keyName} (set revocableTokens)`,
    );
  }
  const now = ctx.clock.now();
  const parsed = parseRevokeRequest(await readJsonOrMsgpack(request), now, ctx.options.maxRevocationTargets);
  const results: RevokeResult[] = [];
  const revocations: TokenRevocation[] = [];
  for (const target of parsed.targets) {
    const error = targetError(target);
    if (error) {
      results.push({ target, error });
      continue;
    }
    revocations.push({ keyName, target, issuedBefore: parsed.issuedBefore, appliesAt: parsed.appliesAt });
    results.push({ target, issuedBefore: parsed.issuedBefore, appliesAt: parsed.appliesAt });
  }
  // A revoked token expires at most maxRevocableTokenTtl after it was issued; until then the entry matters.
  if (revocations.length > 0)
    await ctx.engine.auth.revoke(revocations, parsed.issuedBefore + ctx.options.maxRevocableTokenTtl);
  const failureCount = results.filter((r) => 'error' in r).length;
  sendBody(
    request.res,
    200,
    { successCount: results.length - failureCount, failureCount, results },
    responseFormat(request.req),
  );
}

export function registerTokenRoutes(router: Router, ctx: NodeContext): void {
  router.add('POST', '/keys/:keyName/requestToken', (request) => requestToken(ctx, request));
  router.add('POST', '/keys/:keyName/revokeTokens', (request) => revokeTokens(ctx, request));
  // Real Ably answers other methods here with 404 40400, not 405 (ably-js test rest/request).
  router.add('GET', '/keys/:keyName/requestToken', ({ method, url }) => {
    throw new AblyError(Err.notFound, `No such endpoint: ${method} ${url.pathname}`);
  });
}
