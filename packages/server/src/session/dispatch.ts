/**
 * What each client message does, in the order the inbound queue (inbound.ts) keeps: publishes go
 * to publish.ts; everything else is dispatched here: heartbeat echo, CLOSE, a stray DISCONNECT,
 * channel attach and detach, presence, SYNC requests, in-band reauth. Unsupported actions are
 * NACKed (or fail their channel); an action no client may send fails the connection.
 */
import { AblyError, Action, Err, PayloadError, actionName, type ProtocolMessage } from '@encke/protocol';
import { attach, detach } from './attach.js';
import { annotate, changeMessage } from './changes.js';
import type { InboundHandler, SendAnswer } from './inbound.js';
import type { Inbound } from './port.js';
import { presence, syncRequest } from './presence.js';
import { claimMsgSerial, rejectPayload, startPublish } from './publish.js';
import { reauthorize } from './reauth.js';
import type { SessionWithContext } from './with-context.js';

/** Hands a session's client messages, in the inbound queue's order, to what each one does. */
export class Dispatcher implements InboundHandler {
  constructor(private readonly session: SessionWithContext) {}

  get closed(): boolean {
    return this.session.closed;
  }

  get maxWaiting(): number {
    return this.session.ctx.options.maxInboundQueue;
  }

  handle(pm: Inbound): Promise<void> | void {
    return pm instanceof PayloadError ? rejectPayload(this.session, pm) : dispatch(this.session, pm);
  }

  publish(pm: Inbound): SendAnswer | Promise<SendAnswer> {
    return startPublish(this.session, pm);
  }

  failed(err: unknown, pm: Inbound): void {
    const e = AblyError.from(err);
    // More than maxInboundQueue messages read and waiting (inbound.ts): counted once per connection.
    if (e.code === Err.rateLimited.code && !this.session.closed)
      this.session.ctx.faults.limitReached('maxInboundQueue', { appId: this.session.app.id });
    if (e.code === Err.internal.code) {
      const action = pm instanceof PayloadError ? pm.envelope.action : pm.action;
      this.session.ctx.logger.error({ err, connectionId: this.session.id, action }, 'error handling client message');
    }
    this.session.fail(e);
  }

  idle(): void {
    this.session.inboundIdle();
  }

  pause(): void {
    this.session.transport?.pauseReading();
  }

  resume(): void {
    this.session.transport?.resumeReading();
  }
}

function dispatch(session: SessionWithContext, pm: ProtocolMessage): Promise<void> | void {
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
      session.dropTransport();
      return;
    case Action.ATTACH:
      return attach(session, pm);
    case Action.DETACH:
      return detach(session, pm);
    case Action.PRESENCE:
      return presence(session, pm);
    case Action.SYNC:
      return syncRequest(session, pm);
    case Action.MESSAGE:
      // Only updates, deletes and appends come here; publishes go to publish.ts (inbound.ts).
      return changeMessage(session, pm);
    case Action.ANNOTATION:
      return annotate(session, pm);
    case Action.OBJECT:
      return reject(
        session,
        pm,
        new AblyError(Err.badRequest, `${actionName(pm.action)} is not supported by this server`),
      );
    case Action.AUTH:
      return reauthorize(session, pm);
    case Action.ACTIVATE:
      // ably-js 1.x activates an upgrade transport on that transport (upgrade.ts handles it there);
      // one reaching the session came on the transport already active: nothing to switch.
      return;
    default:
      throw new AblyError(Err.protocolError, `Unexpected ${actionName(pm.action)} (action ${pm.action}) from client`);
  }
}

/** NACKs a message that expects an ACK, or fails the channel of one that does not. */
function reject(session: SessionWithContext, pm: ProtocolMessage, err: AblyError): void {
  if (pm.msgSerial !== undefined) {
    if (claimMsgSerial(session, pm.msgSerial, pm.action)) session.nack(pm.msgSerial, err);
  } else if (pm.channel !== undefined) {
    session.send({ action: Action.ERROR, channel: pm.channel, error: err.toErrorInfo() });
  }
}
