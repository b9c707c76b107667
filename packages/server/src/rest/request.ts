/**
 * What every authenticated REST endpoint shares: credentials (`Authorization: Basic|Bearer`, or
 * `key` / `access_token` in the query), the request's clientId (`X-Ably-ClientId`), capability
 * checks, the protocol version, the request body, and answers in the asked-for format, wrapped in
 * `{statusCode, response, headers}` when the client asks for an `envelope` (browsers do, since
 * they cannot read `Link` headers).
 */
import { AblyError, Err, MAX_PROTOCOL_VERSION, MIN_PROTOCOL_VERSION, type Format } from '@encke/protocol';
import { authenticate, checkOrigin, checkTls, resolveClientId, type AuthContext } from '../auth/authenticate.js';
import { requestOrigin } from '../http/origin.js';
import { allows, type Operation } from '../auth/capability.js';
import { requestCredentials } from '../auth/credentials.js';
import { decodeBody, readBody, requestFormat, responseFormat, sendBody } from '../http/body.js';
import type { HttpRequest, RouteOptions, Router } from '../http/router.js';
import type { NodeContext } from '../context.js';

export type AppHandler = (http: HttpRequest, auth: AuthContext) => Promise<void>;

/**
 * Authenticates the request's credentials (40101 without any) and refuses a plain request to a
 * `tlsOnly` app (40103 for a key, 40311 for a token or JWT), for every REST route alike.
 */
export async function authenticateRequest(ctx: NodeContext, http: HttpRequest): Promise<AuthContext> {
  const creds = requestCredentials(http.url.searchParams, http.req.headers.authorization);
  if (!creds)
    throw new AblyError(
      Err.invalidCredentials,
      'No credentials: send Authorization: Basic <base64 key> or Bearer <base64 token>',
    );
  const auth = await authenticate(ctx.apps, ctx.tokens, creds);
  checkTls(auth, http.secure);
  checkOrigin(auth, () => requestOrigin(http.req.headers));
  return auth;
}

/**
 * Registers an endpoint of an app: the handler runs with the request's authenticated credentials,
 * and the request counts in that app's stats as succeeded or failed.
 */
export function appRoute(
  router: Router,
  ctx: NodeContext,
  method: string,
  pattern: string,
  handler: AppHandler,
  options: RouteOptions = {},
): void {
  router.add(
    method,
    pattern,
    async (http) => {
      const auth = await authenticateRequest(ctx, http);
      try {
        await handler(http, auth);
        ctx.stats.count(auth.app.id, 'apiRequests.other.succeeded');
      } catch (err) {
        ctx.stats.count(auth.app.id, 'apiRequests.other.failed');
        throw err;
      }
    },
    options,
  );
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The clientId this request acts as: `X-Ably-ClientId` (base64 of the UTF-8 clientId, as ably-js
 * sends it) checked against the credentials, or the token's own clientId.
 */
export function requestClientId(http: HttpRequest, auth: AuthContext): string | undefined {
  const header = http.req.headers['x-ably-clientid'];
  let requested: string | undefined;
  if (typeof header === 'string') {
    if (header.length % 4 !== 0 || !BASE64_RE.test(header))
      throw new AblyError(Err.invalidClientId, 'X-Ably-ClientId must be the base64 of the clientId');
    requested = Buffer.from(header, 'base64').toString('utf8');
  }
  return resolveClientId(auth, requested);
}

/** 40160 unless the credentials allow `op` on channel `name`. */
export function requireCapability(auth: AuthContext, name: string, op: Operation): void {
  if (!allows(auth.capability, name, op)) {
    throw new AblyError(Err.capabilityDenied, `Permission denied: ${op} not permitted on channel "${name}"`);
  }
}

/** The protocol version of the request (`X-Ably-Version`); the newest when absent. */
export function protocolVersion(http: HttpRequest): number {
  const header = http.req.headers['x-ably-version'];
  if (typeof header !== 'string') return MAX_PROTOCOL_VERSION;
  const version = Number(header);
  if (!/^\d{1,4}$/.test(header) || version < MIN_PROTOCOL_VERSION) {
    throw new AblyError(
      Err.unsupportedProtocolVersion,
      `Unsupported protocol version ${JSON.stringify(header.slice(0, 20))}`,
    );
  }
  return version;
}

/** Reads and decodes the request body by its Content-Type, within `maxRequestBodySize`. */
export async function readRequestBody(ctx: NodeContext, http: HttpRequest): Promise<unknown> {
  const format = requestFormat(http.req);
  const body = await readBody(http.req, ctx.options.maxRequestBodySize);
  return decodeBody(body, format, ctx.options.maxRequestBodySize);
}

/**
 * A sandbox request's body: only with an explicit JSON or msgpack Content-Type (a type no web page
 * can send cross-origin without a preflight, which sandbox routes refuse), within `sandboxMaxBodySize`.
 */
export async function readSandboxBody(ctx: NodeContext, http: HttpRequest): Promise<unknown> {
  const format = requestFormat(http.req, true);
  const body = await readBody(http.req, ctx.options.sandboxMaxBodySize);
  return decodeBody(body, format, ctx.options.sandboxMaxBodySize);
}

/** The format of the answer: the `envelope` param when given, else what Accept asks for. */
export function outputFormat(http: HttpRequest): Format {
  const envelope = http.url.searchParams.get('envelope');
  if (envelope === null) return responseFormat(http.req);
  if (envelope !== 'json' && envelope !== 'msgpack') {
    throw new AblyError(
      Err.invalidParameterValue,
      `Invalid envelope ${JSON.stringify(envelope.slice(0, 20))}: expected json or msgpack`,
    );
  }
  return envelope;
}

/**
 * Answers `status` with `body` (already in wire form for `outputFormat`) and `headers` (such as
 * the `Link` of a paginated answer); inside an envelope when asked for. Always a body: ably-js
 * fails on an empty one.
 */
export function reply(http: HttpRequest, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const format = outputFormat(http);
  if (http.url.searchParams.has('envelope')) {
    const wrapped: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) wrapped[k.toLowerCase()] = v;
    sendBody(http.res, 200, { statusCode: status, response: body, headers: wrapped }, format);
  } else {
    sendBody(http.res, status, body, format, headers);
  }
}
