/**
 * The per-connection state machine, independent of the transport that carries it. A session outlives its
 * transport for `connectionStateTtl` so that the client can resume it; while it has no transport, channel
 * traffic is not queued: the client re-attaches every channel with its last channelSerial and the channel
 * log replays what it missed (RTN15c6, RTL3d).
 *
 * The session owns its state. What each client message does lives in the operation modules
 * (dispatch.ts and what it calls), which change the session only through its methods and its
 * collaborators: the attachments (attachments.ts), the exactly-once ledger (ack-ledger.ts), the
 * inbound pipeline (inbound.ts) and the presence membership (membership.ts). Its outbound frames
 * (the tick's queue, the fan-out's direct write, the publisher's ACKs made after the fan-out) are
 * SessionOutbound's (session-outbound.ts). What few connections use (ack ledger, presence
 * membership, timers, upgrades) is kept by SessionFields (session-fields.ts): one object made by
 * the first of it, none for an idle connection (bench S3).
 */
import { AblyError, Action, Err, type ErrorInfo, type PresenceMessage, type ProtocolMessage } from '@encke/protocol';
import type { AuthContext } from '../auth/authenticate.js';
import type { NodeContext } from '../context.js';
import type { ConnectionRecord } from '../engine/connection-store.js';
import { OutboundFrame } from '../wire/frame.js';
import { AckLedger } from './ack-ledger.js';
import { Attachments, type AttachmentHolder, type AttachmentSlot } from './attachments.js';
import { connectedFrame } from './connected-frame.js';
import {
  derivedConnectionSecret,
  formatConnectionKey,
  isKeyOf,
  newConnectionId,
  newConnectionSecret,
} from './connection-key.js';
import { Dispatcher } from './dispatch.js';
import { InboundQueue, isPublish, publishAlone, startAlone } from './inbound.js';
import { Membership } from './membership.js';
import { SessionOutbound } from './session-outbound.js';
import { sharedParams } from './shared-params.js';
import type { DisposeReason, SessionParams, SessionState } from './handle.js';
import type { Inbound, Transport, TransportOwner } from './port.js';
import { TokenExpiry } from './token-expiry.js';
import { Upgrades, superseded } from './upgrade.js';
import type { SessionWithContext } from './with-context.js';

export class Session extends SessionOutbound implements SessionWithContext, AttachmentHolder {
  readonly id: string;
  /** @internal The attachments (the `attachments` view keeps them here: none, the one, or a Map). */
  attached: AttachmentSlot = null;
  private params: SessionParams;

  /** A new connection, or (`restored`) one taken over from another node. */
  constructor(
    readonly ctx: NodeContext,
    params: SessionParams,
    restored?: ConnectionRecord,
  ) {
    super();
    this.id = restored?.connectionId ?? newConnectionId();
    this.params = sharedParams(params);
    if (!restored) return;
    // Taken over: a random secret of its own, so that no key handed out before comes back.
    this.ownSecret = newConnectionSecret();
    this.ledger = new AckLedger(restored.msgSerial);
    if (restored.presenceChannels.length) this.membership = new Membership(this, restored.presenceChannels);
  }

  get appId(): string {
    return this.params.auth.app.id;
  }

  /** This connection's attachments by channel name (a view over `attached`, made per use: attachments.ts). */
  get attachments(): Attachments {
    return new Attachments(this, this.ctx.channels);
  }

  get state(): SessionState {
    return this.current;
  }

  get closed(): boolean {
    return this.current === 'closed';
  }

  /** The transport carrying the connection now; null while disconnected. */
  get transport(): Transport | null {
    return this.bound;
  }

  get auth(): AuthContext {
    return this.params.auth;
  }

  get app(): AuthContext['app'] {
    return this.params.auth.app;
  }

  get clientId(): string | undefined {
    return this.params.clientId;
  }

  get echo(): boolean {
    return this.params.echo;
  }

  get remainPresentFor(): number {
    return this.params.remainPresentFor;
  }

  /** The secret part of this connection's keys (hashed into shared state, never stored). */
  get connectionSecret(): string {
    return this.ownSecret ?? derivedConnectionSecret(this.id);
  }

  /** Channels where this connection has presence members. */
  presenceChannels(): string[] {
    return this.membership?.channels() ?? [];
  }

  /** Whether `key` is a key of this connection (any generation). */
  ownsKey(key: string): boolean {
    return isKeyOf(key, this.id, this.connectionSecret);
  }

  /** Adopts new credentials (in-band AUTH); while connected, the session ends at the token's expiry. */
  setAuth(auth: AuthContext, clientId: string | undefined): void {
    this.params = sharedParams({ ...this.params, auth, clientId });
    this.armTokenExpiry();
  }

  /**
   * At the token's expiry the client is sent DISCONNECTED 40142 and the state is kept: the SDK gets
   * a new token and resumes, and the channel log replays what it missed (RTN15h).
   */
  private armTokenExpiry(): void {
    this.tokenExpiry?.cancel();
    const expires = this.auth.expires;
    if (expires === undefined || !this.bound) return;
    this.tokenExpiry ??= new TokenExpiry(this.ctx.clock, (at) => {
      if (this.auth.expires === at) this.disconnect(new AblyError(Err.tokenExpired, 'Token expired'));
    });
    this.tokenExpiry.arm(expires);
  }

  // ---- transport binding ------------------------------------------------------------------------

  /**
   * Makes `transport` this session's transport, ending any previous one (it is superseded), with
   * the parameters of the connect request (a resume brings new credentials, echo and
   * remainPresentFor), and answers CONNECTED.
   */
  bind(transport: Transport, params: SessionParams, error?: ErrorInfo): void {
    this.adopt(transport, params);
    this.sendConnected(error);
  }

  /** `bind` without CONNECTED: an upgrade transport that already had its own (upgrade.ts). */
  adopt(transport: Transport, params: SessionParams): void {
    this.settleAcks();
    const previous = this.bound;
    if (previous && previous !== transport) {
      this.bound = null;
      previous.end(superseded('Connection resumed on another transport'));
      this.attachments.clear();
    }
    this.ctx.clock.clearTimeout(this.expiry);
    this.expiry = undefined;
    // Resumed within remainPresentFor: the members never left.
    this.membership?.cancelLeave();
    this.bound = transport;
    this.current = 'connected';
    this.params = sharedParams(params);
    this.armTokenExpiry();
  }

  /**
   * Sends CONNECTED (with `error` after a failed resume or recover) with a new key, and tells the
   * transport. `to` another transport than the bound one (an upgrade candidate) gets it directly,
   * with `owner` as the one its client messages go to.
   */
  sendConnected(error?: ErrorInfo, to: Transport | null = this.bound, owner: TransportOwner = this): void {
    const connectionKey = formatConnectionKey(this.id, this.connectionSecret, this.nextKeyGeneration());
    if (to) {
      // From the node's template (connected-frame.ts); at once if no other frame can come this tick (connectsAlone).
      const frame = connectedFrame(this.ctx.options, to.format, this.id, connectionKey, this.clientId, error);
      if (to === this.bound) this.enqueue(frame, to.connectsAlone === true);
      else to.write([frame]);
    }
    to?.connected(owner, { connectionId: this.id, appId: this.appId, connectionKey, auth: this.auth });
  }

  /** ably-js 1.x upgrade (`upgrade=<key>`): propose `transport`, or bind it if there is nothing to upgrade from. */
  upgrade(transport: Transport, params: SessionParams): void {
    if (!this.bound) return this.bind(transport, params);
    (this.upgrades ??= new Upgrades(this)).propose(transport, params);
  }

  transportGone(transport: Transport): void {
    if (this.upgrades?.forget(transport)) return;
    if (transport !== this.bound) return;
    this.dropQueued();
    this.bound = null;
    this.tokenExpiry?.cancel();
    this.attachments.clear();
    if (this.current !== 'connected') return;
    this.current = 'disconnected';
    this.ctx.metrics.disconnected('transport_lost');
    if (this.ctx.logger.isLevelEnabled('info'))
      this.ctx.logger.info(
        { connectionId: this.id, transport: transport.kind },
        'connection lost its transport; resumable',
      );
    this.expiry = this.ctx.clock.setTimeout(() => this.dispose('expired'), this.ctx.options.connectionStateTtl);
    this.ctx.records.suspend(this);
    this.membership?.scheduleLeave(this.remainPresentFor);
  }

  /** The heartbeat visit: pings, HEARTBEATs and idle checks are its transports'. */
  tick(now: number): void {
    this.bound?.tick(now);
    this.upgrades?.tick(now);
  }

  /** A DISCONNECT that reached the session: end whatever transport it has now, keeping the state. */
  dropTransport(): void {
    const t = this.bound;
    if (!t) return;
    t.end();
    this.transportGone(t);
  }

  // ---- presence membership ------------------------------------------------------------------------

  /** Records which clientIds this connection has present on `channel` after applied changes. */
  trackMembers(channel: string, changes: readonly PresenceMessage[]): void {
    (this.membership ??= new Membership(this)).track(channel, changes);
  }

  /** Makes this connection's members on `channel` leave (DETACH); resolves when done. */
  leavePresence(channel: string): Promise<void> | undefined {
    return this.membership?.leave(channel);
  }

  // ---- inbound ----------------------------------------------------------------------------------

  /** Client messages, handled in order (inbound.ts, dispatch.ts): a publish's ACK precedes the next reply. */
  receive(pm: Inbound): void {
    if (this.current === 'closed') return;
    if (this.inbound !== null) return this.inbound.receive(pm);
    // Nothing waiting or under way: anything but a publish starts now, and a queue is made only if it must be
    // waited for (inbound.ts startAlone; bench S3: an idle connection's ATTACH makes none).
    const handler = new Dispatcher(this);
    if (isPublish(pm)) {
      const answer = publishAlone(handler, pm);
      if (answer) this.inbound = InboundQueue.awaiting(handler, answer, pm);
      return;
    }
    const pending = startAlone(handler, pm);
    if (pending) this.inbound = InboundQueue.holding(handler, pending, pm);
  }

  /** Nothing is waiting or under way: an idle connection keeps no queue. */
  inboundIdle(): void {
    this.inbound = null;
  }

  // ---- endings ----------------------------------------------------------------------------------

  /** Client CLOSE: answer CLOSED, end the transport, forget the connection (RTN12). */
  close(): void {
    this.endWith(new OutboundFrame({ action: Action.CLOSED }));
    this.dispose('closed');
  }

  /** A fatal connection error: ERROR to the client, then the connection is gone (FAILED). */
  fail(err: AblyError): void {
    this.endWith(new OutboundFrame({ action: Action.ERROR, error: err.toErrorInfo() }));
    this.dispose('failed');
  }

  /** Another node took this connection over: end the transport it may still have here and forget it. */
  relinquish(): void {
    this.endWith(superseded('Connection resumed on another node'));
    this.dispose('moved');
  }

  private endWith(final: OutboundFrame): void {
    this.settleAcks();
    if (final.pm.error) this.ctx.metrics.errorSent(final.pm.error.code);
    const t = this.bound;
    this.bound = null;
    t?.end(final);
  }

  /**
   * Tells the client to go away and come back (DISCONNECTED), keeping the state for a resume:
   * node drain, token expiry.
   */
  disconnect(err: AblyError): void {
    const t = this.bound;
    if (!t) return;
    this.settleAcks();
    this.ctx.metrics.errorSent(err.code);
    t.end(new OutboundFrame({ action: Action.DISCONNECTED, error: err.toErrorInfo() }));
    this.transportGone(t);
  }

  /**
   * Forgets the connection on this node. Closed, failed or expired: it is gone everywhere and its
   * members leave at once. Moved (another node took it over), or this node shutting down while
   * state is shared: it lives on elsewhere, so its members stay and its shared record is kept.
   */
  dispose(reason: DisposeReason): void {
    if (this.current === 'closed') return;
    this.current = 'closed';
    this.ctx.clock.clearTimeout(this.expiry);
    this.tokenExpiry?.cancel();
    this.expiry = undefined;
    this.inbound?.clear();
    this.dropQueued();
    this.attachments.clear();
    this.upgrades?.endAll();
    const livesOn = reason === 'moved' || (reason === 'shutdown' && this.ctx.records.shared);
    if (livesOn) {
      this.membership?.cancelLeave();
    } else {
      this.ctx.records.forget(this);
      this.membership?.leaveAll();
    }
    this.ctx.sessions.remove(this);
    this.ctx.metrics.disconnected(reason);
    if (this.ctx.logger.isLevelEnabled('info'))
      this.ctx.logger.info({ connectionId: this.id, reason }, 'connection ended');
  }
}
