/**
 * What each client message other than a publish does (publishes go through publish.ts, in the
 * order inbound.ts keeps): heartbeat echo, CLOSE, a stray DISCONNECT, channel attach and detach,
 * presence, SYNC requests, in-band reauth. Unsupported actions are NACKed (or fail their channel);
 * an action no client may send fails the connection.
 */
import { AblyError, Action, Err, actionName, type ProtocolMessage } from '@encke/protocol';
import { attach, detach } from './attach.js';
import { presence, syncRequest } from './presence.js';
import { claimMsgSerial } from './publish.js';
import { reauthorize } from './reauth.js';
import type { Session } from './session.js';

export function dispatch(session: Session, pm: ProtocolMessage): Promise<void> | void {
  switch (pm.action) {
    case Action.HEARTBEAT:
      // connection.ping(): echo the id (RTN13e).
      session.send(pm.id !== undefined ? { action: Action.HEARTBEAT, id: pm.id } : { action: Action.HEARTBEAT });
      return;
    case Action.CLOSE:
      session.close();
      return;
    case Action.DISCONNECT:
      // Transports handle DISCONNECT themselves (they know which transport it came from); one
      // that reaches the session ends whatever transport it has now, keeping the state.
      if (session.transport) {
        const t = session.transport;
        t.end();
        session.transportGone(t);
      }
      return;
    case Action.ATTACH:
      return attach(session, pm);
    case Action.DETACH:
      return detach(session, pm);
    case Action.PRESENCE:
      return presence(session, pm);
    case Action.SYNC:
      return syncRequest(session, pm);
    case Action.OBJECT:
    case Action.ANNOTATION:
      return reject(session, pm, new AblyError(Err.badRequest, `${actionName(pm.action)} is not supported by this server`));
    case Action.AUTH:
      return reauthorize(session, pm);
    default:
      throw new AblyError(Err.protocolError, `Unexpected ${actionName(pm.action)} (action ${pm.action}) from client`);
  }
}

/** NACKs a message that expects an ACK, or fails the channel of one that does not. */
function reject(session: Session, pm: ProtocolMessage, err: AblyError): void {
  if (pm.msgSerial !== undefined) {
    if (claimMsgSerial(session, pm.msgSerial, pm.action)) session.nack(pm.msgSerial, err);
  } else if (pm.channel !== undefined) {
    session.send({ action: Action.ERROR, channel: pm.channel, error: err.toErrorInfo() });
  }
}
