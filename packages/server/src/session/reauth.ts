/**
 * In-band reauthorisation (RTN22, RTC8; fact sheet §3.7): `AUTH {auth: {accessToken}}` swaps the
 * token on a live connection. The answer is CONNECTED with the same connectionId and the new
 * details; before it, every attachment is checked against the new capability: a channel no longer
 * permitted gets ERROR 40160 (the SDK fails it), one with fewer permitted modes gets ATTACHED with
 * the remaining modes (RESUMED, so the SDK sees no loss of continuity). Later operations use the
 * new capability.
 *
 * A token that does not verify ends the transport with DISCONNECTED and its 4014x code, keeping
 * the connection: the SDK renews and resumes. A token for another app, or one whose clientId
 * conflicts with the connection's, is fatal (40102), as the SDK expects.
 */
import { AblyError, Action, Err, Flag, isTokenError, type ProtocolMessage } from '@encke/protocol';
import { resolveClientId, type AuthContext } from '../auth/authenticate.js';
import { allowedModes } from '../auth/capability.js';
import type { SessionWithContext } from './with-context.js';

export async function reauthorize(session: SessionWithContext, pm: ProtocolMessage): Promise<void> {
  const token = pm.auth?.accessToken;
  if (token === undefined) throw new AblyError(Err.badRequest, 'AUTH without auth.accessToken');
  let auth: AuthContext;
  try {
    auth = await session.ctx.tokens.verify(token);
  } catch (err) {
    const e = AblyError.from(err);
    if (!isTokenError(e.code)) throw e;
    session.disconnect(e);
    return;
  }
  if (session.state !== 'connected' || !session.transport) return;
  if (auth.app.id !== session.app.id)
    throw new AblyError(Err.incompatibleCredentials, 'The new token belongs to another app');
  session.setAuth(auth, reauthClientId(session.clientId, auth));
  recheckAttachments(session);
  session.sendConnected();
}

/**
 * A connection with an identity keeps it: the new token must be for that clientId or a wildcard
 * (40102 otherwise). A connection without one takes the new token's.
 */
function reauthClientId(current: string | undefined, auth: AuthContext): string | undefined {
  return resolveClientId(auth, current === '*' ? undefined : current);
}

function recheckAttachments(session: SessionWithContext): void {
  for (const att of [...session.attachments.values()]) {
    const modes = att.modes & allowedModes(session.auth.capability, att.name);
    if (modes === att.modes) continue;
    if (modes === 0) {
      session.attachments.remove(att);
      const err = new AblyError(
        Err.capabilityDenied,
        `Channel denied access based on the new capability: "${att.name}"`,
      );
      session.send({ action: Action.ERROR, channel: att.name, error: err.toErrorInfo() });
    } else {
      att.narrow(modes);
      session.send({ action: Action.ATTACHED, channel: att.name, flags: modes | Flag.RESUMED });
    }
  }
}
