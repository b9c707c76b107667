/**
 * Revocations on live connections (Ably docs, auth/revocation). Every node hears every revocation
 * from the engine and applies it to its own connections: those holding a covered token get
 * DISCONNECTED 40141 (a token error: the SDK fetches a new token, issued after the revocation, and
 * resumes). With `allowReauthMargin` the revocation applies 30 s later: holders are first sent
 * AUTH, which makes the SDK reauthorise in band, and only those still holding a covered token
 * then are disconnected.
 */
import { AblyError, Action, Err } from '@encke/protocol';
import { revocationCovers } from '../auth/revocation.js';
import type { TokenRevocation } from '../engine/auth-store.js';
import type { NodeContext } from '../context.js';
import type { SessionHandle } from './handle.js';

function holders(ctx: NodeContext, revocation: TokenRevocation): SessionHandle[] {
  const found: SessionHandle[] = [];
  for (const session of ctx.sessions.values()) {
    if (session.state === 'connected' && session.transport && revocationCovers(revocation, session.auth))
      found.push(session);
  }
  return found;
}

function disconnectHolders(ctx: NodeContext, revocation: TokenRevocation): void {
  for (const session of holders(ctx, revocation)) session.disconnect(new AblyError(Err.tokenRevoked, 'Token revoked'));
}

export function enforceRevocation(ctx: NodeContext, revocation: TokenRevocation): void {
  const delay = revocation.appliesAt - ctx.clock.now();
  if (delay <= 0) return disconnectHolders(ctx, revocation);
  for (const session of holders(ctx, revocation)) session.send({ action: Action.AUTH });
  ctx.clock.setTimeout(() => disconnectHolders(ctx, revocation), delay);
}
