/**
 * Opening a connection over any transport: authenticate, then either resume an existing session
 * or start a new one, and answer CONNECTED (or a fatal ERROR).
 *
 * A failed resume is not fatal: CONNECTED with a new connectionId plus the reason (80018 for a
 * malformed key, 80008 for an unknown or expired one), so the SDK resets msgSerial and carries on
 * (RTN15c7). Bad credentials are fatal: ERROR 40101, the client goes FAILED.
 */
import { AblyError, Action, Err, type ErrorInfo } from '@encke/protocol';
import { authenticate, checkTls, resolveClientId, type AuthContext } from '../auth/authenticate.js';
import type { Transport } from '../transports/transport.js';
import { OutboundFrame } from '../wire/frame.js';
import type { ConnectParams } from './connect-params.js';
import { parseConnectionKey } from './connection-key.js';
import type { NodeContext } from './context.js';
import { Session, type SessionParams } from './session.js';
import { reclaimConnection, recordConnection, takeOver } from './shared-state.js';

type ResumeResult = { session: Session; error?: undefined } | { session?: undefined; error: ErrorInfo };

/**
 * Finds the session `key` names, if the new credentials may take it over: on this node, or (with a
 * shared engine) from another node's shared record.
 */
async function findResumable(ctx: NodeContext, key: string, auth: AuthContext, params: SessionParams): Promise<ResumeResult> {
  const parsed = parseConnectionKey(key);
  if (!parsed) return { error: new AblyError(Err.invalidConnectionKey, 'Unable to resume connection: invalid connection key').toErrorInfo() };
  const session = ctx.sessions.get(parsed.connectionId);
  if (!session || session.state === 'closed') return takeOver(ctx, parsed, auth, params);
  // Another app's connection is reported exactly like an unknown one: nothing about it leaks.
  if (!session.ownsKey(key) || session.app.id !== auth.app.id) {
    return { error: new AblyError(Err.connectionExpired, 'Unable to recover connection: connection expired or unknown').toErrorInfo() };
  }
  if (session.clientId !== params.clientId) {
    return { error: new AblyError(Err.incompatibleRecoverAuth, 'Unable to recover connection: the clientId differs from the original connection').toErrorInfo() };
  }
  if (session.state === 'disconnected') reclaimConnection(session);
  return { session };
}

export async function openConnection(ctx: NodeContext, params: ConnectParams, transport: Transport): Promise<Session | undefined> {
  try {
    if (!params.credentials) throw new AblyError(Err.invalidCredentials, 'No credentials: give key or access_token');
    const auth = await authenticate(ctx.apps, ctx.tokens, params.credentials);
    checkTls(auth, params.secure);
    const clientId = resolveClientId(auth, params.clientId);
    const sessionParams: SessionParams = {
      auth,
      clientId,
      echo: params.echo,
      remainPresentFor: params.remainPresentFor ?? ctx.options.presenceRemainPresentFor,
    };
    let error: ErrorInfo | undefined;
    const resumeKey = params.resume ?? params.recover;
    if (resumeKey !== undefined) {
      const found = await findResumable(ctx, resumeKey, auth, sessionParams);
      if (found.session) {
        const session = found.session;
        session.bind(transport);
        session.setAuth(auth, clientId);
        session.echo = params.echo;
        session.remainPresentFor = sessionParams.remainPresentFor;
        session.sendConnected();
        transport.setOwner(session);
        return session;
      }
      error = found.error;
    }
    const session = new Session(ctx, sessionParams);
    ctx.sessions.add(session);
    recordConnection(session);
    ctx.stats.count(auth.app.id, 'connections.all.opened');
    session.bind(transport);
    session.sendConnected(error);
    transport.setOwner(session);
    return session;
  } catch (err) {
    const e = AblyError.from(err);
    if (e.code === Err.internal.code) ctx.logger.error({ err }, 'connect failed');
    transport.end(new OutboundFrame({ action: Action.ERROR, error: e.toErrorInfo() }));
    return undefined;
  }
}
