/**
 * ably-js 1.x's transport upgrade (protocol v2). Having connected over comet, the client opens a
 * better transport (WebSocket, or xhr_streaming after xhr_polling, several in parallel) with
 * `upgrade=<connectionKey>`. Such a transport joins the connection with a CONNECTED of its own
 * (same connectionId, a new key) but carries nothing until the client, once everything it sent on
 * the old transport is acknowledged, sends ACTIVATE on it. Then it becomes the connection's
 * transport: what the session still had queued goes down the old one, which is ended; the other
 * candidates are ended; the client re-attaches every channel with its channelSerial and the
 * channel log fills the gap, as after a resume.
 */
import { AblyError, Action, Err, PayloadError } from '@encke/protocol';
import { OutboundFrame } from '../wire/frame.js';
import type { Inbound, Transport, TransportOwner } from './port.js';
import type { SessionHandle, SessionParams } from './handle.js';

/** DISCONNECTED to a transport this connection moved away from (to another transport or node). */
export const superseded = (reason: string): OutboundFrame =>
  new OutboundFrame({ action: Action.DISCONNECTED, error: new AblyError(Err.superseded, reason).toErrorInfo() });

/** Upgrade transports one connection may have waiting at once (ably-js tries two in parallel). */
const MAX_CANDIDATES = 2;

/** A transport waiting for ACTIVATE, and the owner its client messages go to meanwhile (and after). */
class Candidate implements TransportOwner {
  constructor(
    private readonly upgrades: Upgrades,
    readonly transport: Transport,
    readonly params: SessionParams,
  ) {}

  receive(pm: Inbound): void {
    if (!(pm instanceof PayloadError) && pm.action === Action.ACTIVATE) this.upgrades.activate(this);
    else this.upgrades.session.receive(pm);
  }

  transportGone(transport: Transport): void {
    this.upgrades.session.transportGone(transport);
  }

  fail(err: AblyError): void {
    this.upgrades.session.fail(err);
  }
}

export class Upgrades {
  private readonly waiting: Candidate[] = [];

  constructor(readonly session: SessionHandle) {}

  /** `transport` joins the connection and is sent its CONNECTED. */
  propose(transport: Transport, params: SessionParams): void {
    if (this.waiting.length >= MAX_CANDIDATES) this.waiting.shift()!.transport.end();
    const candidate = new Candidate(this, transport, params);
    this.waiting.push(candidate);
    this.session.sendConnected(undefined, transport, candidate);
  }

  /** ACTIVATE from `candidate`: it becomes the connection's transport. A repeated ACTIVATE does nothing. */
  activate(candidate: Candidate): void {
    const i = this.waiting.indexOf(candidate);
    if (i < 0) return;
    this.waiting.splice(i, 1);
    this.endAll();
    this.session.flush();
    this.session.adopt(candidate.transport, candidate.params);
  }

  /** A waiting transport went away: it is forgotten (true), or `transport` was not one (false). */
  forget(transport: Transport): boolean {
    const i = this.waiting.findIndex((c) => c.transport === transport);
    if (i < 0) return false;
    this.waiting.splice(i, 1);
    return true;
  }

  tick(now: number): void {
    for (const c of this.waiting) c.transport.tick(now);
  }

  endAll(): void {
    for (const c of this.waiting.splice(0)) c.transport.end();
  }
}
