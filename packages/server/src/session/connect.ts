/**
 * Opening a connection over any transport: authenticate, then either resume an existing connection
 * (on this node, or taken over from another node's shared record) or start a new one, and answer
 * CONNECTED (or a fatal ERROR).
 *
 * A failed resume is not fatal: CONNECTED with a new connectionId plus the reason (80018 for a
 * malformed key, 80008 for an unknown or expired one), so the SDK resets msgSerial and carries on
 * (RTN15c7). Bad credentials are fatal: ERROR 40101, the client goes FAILED.
 */
import { AblyError, Action, Err, type ErrorInfo } from '@encke/protocol';
import {
  authenticate,
  authenticateNow,
  checkOrigin,
  checkTls,
  resolveClientId,
  type AuthContext,
} from '../auth/authenticate.js';
import type { NodeContext } from '../context.js';
import type { ConnectionRecord } from '../engine/connection-store.js';
import { OutboundFrame } from '../wire/frame.js';
import type { ConnectParams } from './connect-params.js';
import type { Transport } from './port.js';
import type { SessionHandle, SessionParams } from './handle.js';
import { Session } from './session.js';

type ResumeResult = { session: SessionHandle; error?: undefined } | { session?: undefined; error: ErrorInfo };

const failedResume = (err: AblyError): ResumeResult => ({ error: err.toErrorInfo() });

/**
 * The connection `key` names, if the new credentials may resume it: this node's session, or
 * (with a shared engine) one taken over from the node whose record it is.
 */
async function findResumable(ctx: NodeContext, key: string, params: SessionParams): Promise<ResumeResult> {
  const found = await ctx.sessions.lookup(key, params.auth.app.id);
  if (found.where === 'unknown') {
    return failedResume(
      found.malformed
        ? new AblyError(Err.invalidConnectionKey, 'Unable to resume connection: invalid connection key')
        : new AblyError(Err.connectionExpired, 'Unable to recover connection: connection expired or unknown'),
    );
  }
  const clientId = found.where === 'local' ? found.session.clientId : found.record.clientId;
  if (clientId !== params.clientId) {
    return failedResume(
      new AblyError(
        Err.incompatibleRecoverAuth,
        'Unable to recover connection: the clientId differs from the original connection',
      ),
    );
  }
  if (found.where === 'remote') return { session: await takeOver(ctx, found.record, params) };
  if (found.session.state === 'disconnected') ctx.records.reclaim(found.session);
  return { session: found.session };
}

/**
 * A connection another node owned (or owned and died): this node takes it over from its shared
 * record. The new owner has a new secret (the client adopts the key of the CONNECTED that follows)
 * and tells the old owner to let go.
 */
async function takeOver(ctx: NodeContext, record: ConnectionRecord, params: SessionParams): Promise<SessionHandle> {
  ctx.sessions.admit(params.auth.app.id, ctx.options, ctx.faults);
  const session = new Session(ctx, params, record);
  await ctx.records.claim(session);
  ctx.sessions.add(session);
  ctx.logger.info({ connectionId: session.id, from: record.owner }, 'connection taken over from another node');
  return session;
}

const HTTP_UNAUTHORIZED = 401;

/** Counts and logs a connection that got CONNECTED (`resume`: whether it asked to resume, and how that went). */
function opened(
  ctx: NodeContext,
  session: SessionHandle,
  transport: Transport,
  resume: 'none' | 'ok' | 'failed',
  resumeError?: number,
): void {
  ctx.metrics.connected(resume);
  // The fields are built only when the line is written (the library's default logger is silent).
  if (!ctx.logger.isLevelEnabled('info')) return;
  const fields = {
    connectionId: session.id,
    transport: transport.kind,
    format: transport.format,
    keyName: session.auth.keyName,
    clientId: session.clientId,
  };
  ctx.logger.info(
    resume === 'none' ? fields : { ...fields, resume, ...(resumeError !== undefined ? { code: resumeError } : {}) },
    resume === 'ok' ? 'connection resumed' : 'connection opened',
  );
}

/**
 * Opens a connection over `transport` (CONNECTED, or a refusal written to it). Returns at once, with no
 * promise, when nothing has to be waited for: a configured API key and no resume (bench S3: the promise
 * of an async open and its reaction were ~5-8k instructions an open); otherwise a promise.
 */
export function openConnection(
  ctx: NodeContext,
  params: ConnectParams,
  transport: Transport,
): SessionHandle | undefined | Promise<SessionHandle | undefined> {
  let auth: AuthContext | undefined;
  try {
    if (!params.credentials) throw new AblyError(Err.invalidCredentials, 'No credentials: give key or access_token');
    // A configured key is verified without waiting: the open then runs to CONNECTED in this tick.
    auth = authenticateNow(ctx.apps, params.credentials);
    if (auth !== undefined && resumeKeyOf(params) === undefined)
      return openNew(ctx, sessionParamsOf(ctx, params, auth), transport, undefined, undefined);
  } catch (err) {
    refuse(ctx, transport, err);
    return undefined;
  }
  return openWaiting(ctx, params, transport, auth);
}

/** The key of the connection to resume, recover or upgrade, if any. */
const resumeKeyOf = (params: ConnectParams): string | undefined => params.resume ?? params.recover ?? params.upgrade;

/** The session's parameters for `auth`, once the app's TLS and origin rules pass. */
function sessionParamsOf(ctx: NodeContext, params: ConnectParams, auth: AuthContext): SessionParams {
  checkTls(auth, params.secure);
  checkOrigin(auth, params.origin);
  return {
    auth,
    clientId: resolveClientId(auth, params.clientId),
    echo: params.echo,
    remainPresentFor: params.remainPresentFor ?? ctx.options.presenceRemainPresentFor,
  };
}

/** `openConnection` for credentials verified asynchronously (`auth` undefined) or a resume, recover or upgrade. */
async function openWaiting(
  ctx: NodeContext,
  params: ConnectParams,
  transport: Transport,
  verified: AuthContext | undefined,
): Promise<SessionHandle | undefined> {
  try {
    // Credentials were checked to be there by openConnection (none at all would be refused the same way).
    const auth = verified ?? (await authenticate(ctx.apps, ctx.tokens, params.credentials ?? {}));
    const sessionParams = sessionParamsOf(ctx, params, auth);
    let error: ErrorInfo | undefined;
    const resumeKey = resumeKeyOf(params);
    if (resumeKey !== undefined) {
      const found = await findResumable(ctx, resumeKey, sessionParams);
      if (found.session) {
        if (resumeKey === params.upgrade) {
          found.session.upgrade(transport, sessionParams);
          ctx.logger.info(
            { connectionId: found.session.id, transport: transport.kind, format: transport.format },
            'connection upgraded its transport',
          );
        } else {
          found.session.bind(transport, sessionParams);
          opened(ctx, found.session, transport, 'ok');
        }
        return found.session;
      }
      // A failed upgrade is abandoned, not a new connection: the client keeps the one it has.
      if (resumeKey === params.upgrade) {
        if (found.error) ctx.metrics.errorSent(found.error.code);
        transport.end(new OutboundFrame({ action: Action.DISCONNECTED, error: found.error }));
        return undefined;
      }
      error = found.error;
    }
    return openNew(ctx, sessionParams, transport, resumeKey, error);
  } catch (err) {
    refuse(ctx, transport, err);
    return undefined;
  }
}

/** A new connection (`error`: why the resume or recover of `resumeKey` failed), answered CONNECTED. */
function openNew(
  ctx: NodeContext,
  sessionParams: SessionParams,
  transport: Transport,
  resumeKey: string | undefined,
  error: ErrorInfo | undefined,
): SessionHandle {
  const appId = sessionParams.auth.app.id;
  ctx.sessions.admit(appId, ctx.options, ctx.faults);
  const session = new Session(ctx, sessionParams);
  ctx.sessions.add(session);
  ctx.records.save(session);
  ctx.stats.count(appId, 'connections.all.opened');
  session.bind(transport, sessionParams, error);
  opened(ctx, session, transport, resumeKey === undefined ? 'none' : 'failed', error?.code);
  return session;
}

/** A connect that failed: counted, logged without credentials, and answered on its transport. */
function refuse(ctx: NodeContext, transport: Transport, err: unknown): void {
  const e = AblyError.from(err);
  ctx.metrics.connectFailed();
  ctx.metrics.errorSent(e.code);
  if (e.statusCode === HTTP_UNAUTHORIZED) ctx.metrics.authFailed(e.code);
  // Code and reason only: never the credentials.
  ctx.logger.warn(
    { transport: transport.kind, code: e.code, statusCode: e.statusCode, reason: e.message },
    'connection refused',
  );
  if (e.code === Err.internal.code) ctx.logger.error({ err }, 'connect failed');
  // A full node is not the client's fault: DISCONNECTED, so the SDK retries (RTN14d) rather than fails.
  const action = e.code === Err.overloaded.code ? Action.DISCONNECTED : Action.ERROR;
  transport.end(new OutboundFrame({ action, error: e.toErrorInfo() }));
}
