/**
 * The comet endpoints (protocol fact sheet §1.3; the wire format is in docs/protocol.md):
 *
 *   GET  /comet/connect             connection params as for WebSocket, plus `stream`; the first recv
 *   GET  /comet/<key>/recv          held until there is something to send or a HEARTBEAT is due;
 *                                   `ack=<position>` after a connect with `ack=0` (acknowledged polling)
 *   POST /comet/<key>/send          body: array of ProtocolMessages (JSON or msgpack by Content-Type)
 *   GET  /comet/<key>/send?body=…   the same array, URL-encoded JSON, for clients that cannot POST
 *   GET  /comet/<key>/close         CLOSE: the connection state is discarded
 *   GET  /comet/<key>/disconnect    the transport goes; the state stays for a resume
 *
 * Connect and recv are answered in the framing the request asks for (framing/select.ts: JSON lines
 * or msgpack, JSONP, SSE, forever-iframe, multipart) and mode (stream, long poll, plain poll).
 * A request with `envelope=jsonp&callback=<name>` gets every answer, errors and 204s included, as
 * `<name>({statusCode, response, headers})`.
 *
 * Every request authenticates (`key` / `access_token` query params as the SDKs send them, or an
 * `Authorization: Basic|Bearer` header) and must be for the connection's app. Bad credentials are
 * 40101 (the SDK fails); an unknown, expired or other app's key is 80022 (the SDK resumes).
 */
import { AblyError, Action, Err, type Format } from '@encke/protocol';
import { authenticate, checkOrigin, checkTls, type AuthContext, type Credentials } from '../../auth/authenticate.js';
import { credentialsFromHeader, requestCredentials } from '../../auth/credentials.js';
import type { NodeContext } from '../../context.js';
import { ClientAbortError, decodeBody, readBody, requestFormat } from '../../http/body.js';
import { requestOrigin } from '../../http/origin.js';
import type { Handler, HttpRequest, Router } from '../../http/router.js';
import { parseConnectParams } from '../../session/connect-params.js';
import { openConnection } from '../../session/connect.js';
import type { Inbound } from '../../session/port.js';
import { CometTransport } from './comet-transport.js';
import { forwardToOwner } from './forward.js';
import { jsonpError, jsonpNoContent } from './framing/jsonp.js';
import { jsonpCallbackOf, recvMode } from './framing/select.js';
import { CometRegistry, VerifiedCredentials, sameGrant, type CometConnection } from './registry.js';
import { RawRecvReader } from './raw-recv.js';
import { parseSseEventId } from './replay.js';
import { acceptedFormat, decodeQueryBody, parseSendBody } from './wire.js';

/** The cookie that names the serving node, for load balancers that want sticky comet requests. */
const SERVER_COOKIE = 'encke_server';

export function registerCometRoutes(router: Router, ctx: NodeContext): CometRegistry {
  const registry = new CometRegistry(ctx.clock);
  registry.nextRequest = new RawRecvReader(ctx, registry);
  const route = (method: string, path: string, handle: Handler): void =>
    void router.add(method, path, jsonpAware(ctx, handle));
  route('GET', '/comet/connect', (r) => connect(ctx, registry, r));
  const keyed = (
    method: string,
    path: string,
    handle: (t: CometTransport, r: HttpRequest) => void | Promise<void>,
    lingering = false,
  ): void => {
    route(method, path, async (r) => {
      const found = await transportFor(ctx, registry, r, lingering);
      if (found) await handle(await bound(ctx, registry, found), r);
    });
  };
  keyed('GET', '/comet/:key/recv', (t, r) => recv(ctx, t, r), true);
  for (const method of ['POST', 'GET']) {
    route(method, '/comet/:key/send', async (r) => {
      const found = await transportFor(ctx, registry, r);
      if (found) await send(ctx, registry, found, r);
    });
  }
  route('GET', '/comet/:key/close', async (r) => {
    const found = await transportFor(ctx, registry, r, false, true);
    if (found) (await bound(ctx, registry, found)).receive([{ action: Action.CLOSE }]);
    noContent(r);
  });
  // Handled by the transport, not queued in the session: a queued DISCONNECT could otherwise reach
  // the session after the client's resume and drop the new transport.
  keyed('GET', '/comet/:key/disconnect', (t, r) => {
    t.disconnect();
    noContent(r);
  });
  return registry;
}

async function connect(ctx: NodeContext, registry: CometRegistry, r: HttpRequest): Promise<void> {
  const { req, res, url, secure } = r;
  const query = url.searchParams;
  const params = parseConnectParams(query, secure, pageOrigin(r));
  params.credentials ??= credentialsFromHeader(req.headers.authorization);
  const mode = recvMode(query, req.headers.accept, parseStream(query.get('stream')), ctx.options.cometSseRetry);
  // An EventSource reconnecting to its connect URL says how far it got: continue the stream, or
  // (frames no longer kept, connection elsewhere or gone) resume the connection.
  const last = mode.framing?.name === 'sse' ? lastEventId(r) : undefined;
  if (last) {
    const live = await liveTransport(ctx, registry, r, last.key);
    if (live?.continueAfter(req, res, mode, last.count)) return;
    params.resume ??= last.key;
  }
  if (mode.ack !== undefined && mode.ack !== 0)
    throw new AblyError(Err.invalidParameterValue, 'Invalid ack on connect: ack=0 asks for acknowledged polling');
  // ably-js sends no `format` on comet and always speaks JSON; other clients may ask for msgpack.
  const format: Format = mode.framing
    ? 'json'
    : query.has('format')
      ? params.format
      : (acceptedFormat(req.headers.accept) ?? 'json');
  // Later recvs default to the mode of the first one (a script-tag client never streams).
  const transport = new CometTransport(ctx, registry, format, mode.stream, mode.ack === 0);
  res.setHeader(
    'Set-Cookie',
    `${SERVER_COOKIE}=${encodeURIComponent(ctx.options.serverId)}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`,
  );
  // A plain poll's connect still waits for its CONNECTED, which is written right after.
  transport.attachRecv(req, res, mode.short ? { ...mode, short: false } : mode);
  await openConnection(ctx, params, transport);
}

/** The `Last-Event-ID` of an SSE request (header, or `lastEventId` for polyfills); 40003 if not ours. */
function lastEventId({ req, url }: HttpRequest): { key: string; count: number } | undefined {
  const header = req.headers['last-event-id'];
  const id = (typeof header === 'string' ? header : undefined) ?? url.searchParams.get('lastEventId') ?? undefined;
  if (id === undefined || id === '') return undefined;
  const parsed = parseSseEventId(id);
  if (!parsed)
    throw new AblyError(Err.invalidParameterValue, 'Invalid Last-Event-ID: not an event id of a comet stream');
  return parsed;
}

/**
 * The live transport on this node that `key` names, if the request's credentials are the ones the
 * connection holds; anything else goes through a resume, which checks them as a connect does.
 */
async function liveTransport(
  ctx: NodeContext,
  registry: CometRegistry,
  r: HttpRequest,
  key: string,
): Promise<CometTransport | undefined> {
  const found = registry.find(key, false);
  if (!found) return undefined;
  const credentials = requestCredentials(r.url.searchParams, r.req.headers.authorization) ?? {};
  const reused = found.verified?.reuse(credentials, ctx.clock.now());
  const auth = reused ?? (await authenticate(ctx.apps, ctx.tokens, credentials));
  checkTls(auth, r.secure);
  checkOrigin(auth, () => pageOrigin(r));
  return found.appId === auth.app.id && (reused !== undefined || sameGrant(auth, found.bound))
    ? found.transport
    : undefined;
}

/**
 * The origin of the page behind a request: a forever-iframe's `origin` param (where its messages
 * are posted), else the request's own (Origin, or Referer for script tags and iframes).
 */
function pageOrigin(r: HttpRequest): string | undefined {
  const target = r.url.searchParams.get('envelope') === 'htmlfile' ? r.url.searchParams.get('origin') : null;
  return target !== null ? target.toLowerCase() : requestOrigin(r.req.headers);
}

function parseStream(value: string | null): boolean {
  if (value === null || value === 'true') return true;
  if (value === 'false') return false;
  throw new AblyError(Err.invalidParameterValue, `Invalid stream ${JSON.stringify(value)}: expected true or false`);
}

/**
 * Authenticates the request and finds the live transport its key names (or, for a recv, a lingering
 * one). Without one here, the connection is looked up: a `/close` for this node's connection whose
 * transport is already gone closes it; a connection another node owns gets the request forwarded
 * there (undefined: answered). Anything else is 80022.
 */
async function transportFor(
  ctx: NodeContext,
  registry: CometRegistry,
  r: HttpRequest,
  lingering = false,
  closing = false,
): Promise<Found | undefined> {
  const key = r.params.key!;
  const credentials = requestCredentials(r.url.searchParams, r.req.headers.authorization) ?? {};
  const found = registry.find(key, lingering);
  const reused = found?.verified?.reuse(credentials, ctx.clock.now());
  const auth = reused ?? (await authenticate(ctx.apps, ctx.tokens, credentials));
  checkTls(auth, r.secure);
  checkOrigin(auth, () => pageOrigin(r));
  if (found && found.appId === auth.app.id) {
    if (reused) return { record: found, unbound: undefined };
    if (!sameGrant(auth, found.bound)) return { record: found, unbound: { auth, credentials } };
    found.verified = new VerifiedCredentials(credentials, auth);
    return { record: found, unbound: undefined };
  }
  const connection = await ctx.sessions.lookup(key, auth.app.id);
  // ably-js aborts its recv as it sends /close, and the abort may be noticed first: the client
  // still means to discard the state, kept here for a resume. Not when another transport took it up.
  if (closing && connection.where === 'local' && !connection.session.transport) {
    connection.session.close();
    return undefined;
  }
  if (connection.where === 'remote' && (await forwardToOwner(ctx, r, connection.record))) return undefined;
  throw new AblyError(Err.connectionNotFound, 'Connection not found: unknown or expired connection key');
}

/**
 * A recv, in the framing and mode it asks for; an SSE one coming back, or an acknowledged poll,
 * continues after what the client has. When the server no longer has what it missed, the client
 * must resume (80022, as for an unknown key).
 */
function recv(ctx: NodeContext, t: CometTransport, r: HttpRequest): void {
  const mode = recvMode(r.url.searchParams, r.req.headers.accept, t.stream, ctx.options.cometSseRetry);
  const confirmed = mode.framing?.name === 'sse' ? lastEventId(r)?.count : mode.ack;
  if (confirmed === undefined) return t.attachRecv(r.req, r.res, mode);
  if (!t.continueAfter(r.req, r.res, mode, confirmed)) {
    const what =
      mode.ack === undefined
        ? 'The stream cannot continue from this Last-Event-ID'
        : `The answers after position ${confirmed} are no longer kept`;
    throw new AblyError(Err.connectionNotFound, `${what}: resume the connection`);
  }
}

/**
 * The connection a request names, and the credential it carries when that does not grant what the
 * connection is authenticated as (another key, clientId or capability of the same app).
 */
interface Found {
  record: CometConnection;
  unbound: { auth: AuthContext; credentials: Credentials } | undefined;
}

/** How long a request with a new credential waits for the in-band AUTH that makes it the connection's. */
const REAUTH_GRACE = 3000;

function notTheConnections(): AblyError {
  return new AblyError(
    Err.incompatibleCredentials,
    "The request's credentials are not the connection's: a comet request must carry the credential the connection is authenticated with",
  );
}

/**
 * The transport, once the request is known to act as the connection: a request whose credential
 * grants something else (a connection key plus a weaker credential of the same app) would act
 * with the connection's rights, so it is served only if the session takes that credential by
 * in-band AUTH within REAUTH_GRACE (ably-js switches every request to the new token as it sends
 * AUTH), and refused with 40102 otherwise, the connection untouched.
 */
async function bound(ctx: NodeContext, registry: CometRegistry, { record, unbound }: Found): Promise<CometTransport> {
  if (!unbound) return record.transport;
  if (!(await registry.awaitBinding(record, unbound.auth, ctx.clock, REAUTH_GRACE))) throw notTheConnections();
  record.verified = new VerifiedCredentials(unbound.credentials, unbound.auth);
  return record.transport;
}

/**
 * A send whose credential the connection does not hold yet is the client's in-band reauth only if
 * it starts with AUTH carrying that very token; anything else waits for the binding like any request.
 */
async function boundForSend(
  ctx: NodeContext,
  registry: CometRegistry,
  found: Found,
  messages: readonly Inbound[],
): Promise<CometTransport> {
  const first = messages[0];
  const token = found.unbound?.credentials.token;
  const reauth =
    first !== undefined &&
    !(first instanceof AblyError) &&
    first.action === Action.AUTH &&
    token !== undefined &&
    first.auth?.accessToken === token;
  return reauth ? found.record.transport : bound(ctx, registry, found);
}

/**
 * A send: every message goes to the session in order and the request is answered 204 at once. The
 * replies (ACK, NACK, ATTACHED, …) come down the recv, the one ordered path from server to client.
 * An undecodable body is a protocol error: the connection fails, as for a broken WebSocket frame.
 */
async function send(ctx: NodeContext, registry: CometRegistry, found: Found, r: HttpRequest): Promise<void> {
  const max = ctx.options.maxCometBodySize;
  let transport = found.unbound ? undefined : found.record.transport;
  let messages: Inbound[];
  try {
    const raw =
      r.method === 'POST'
        ? decodeBody(await readBody(r.req, max), requestFormat(r.req), max)
        : decodeQueryBody(r.url.searchParams, max);
    messages = parseSendBody(raw);
  } catch (err) {
    // The request itself broke (client gone mid-body): nothing to answer, the connection is fine.
    if (!(err instanceof AblyError) || err instanceof ClientAbortError) {
      if (ctx.logger.isLevelEnabled('debug'))
        ctx.logger.debug({ err: (err as Error).message }, 'comet send aborted by the client');
      return void r.res.destroy();
    }
    // A broken body fails the connection only when it is the connection's own request.
    (transport ?? (await bound(ctx, registry, found))).fail(err);
    throw err;
  }
  transport ??= await boundForSend(ctx, registry, found, messages);
  transport.receive(messages);
  noContent(r);
}

function noContent({ res, url }: HttpRequest): void {
  const callback = jsonpCallbackOf(url.searchParams);
  if (callback !== undefined) jsonpNoContent(res, callback);
  else res.writeHead(204, { 'Cache-Control': 'no-store' }).end();
}

/**
 * Errors of a JSONP request are answered as JSONP: a script element runs nothing from an error
 * status, so the client would only see a script error. Other requests' errors go to the node.
 */
function jsonpAware(ctx: NodeContext, handle: Handler): Handler {
  return async (r) => {
    try {
      await handle(r);
    } catch (err) {
      const callback = jsonpCallbackOf(r.url.searchParams);
      if (callback === undefined || r.res.headersSent) throw err;
      const e = AblyError.from(err);
      if (e.statusCode >= 500) ctx.logger.error({ err }, 'comet request failed');
      jsonpError(r.res, callback, e);
    }
  };
}
