/**
 * The per-connection state machine, independent of the transport that carries it. A session
 * outlives its transport for `connectionStateTtl` so that the client can resume it; while it has no
 * transport, channel traffic is not queued: the client re-attaches every channel with its last
 * channelSerial and the channel log replays what it missed (RTN15c6, RTL3d).
 */
import { AblyError, Action, Err, PayloadError, type ErrorInfo, type PresenceMessage, type ProtocolMessage } from '@encke/protocol';
import type { AuthContext } from '../auth/authenticate.js';
import type { TimerHandle } from '../util/clock.js';
import type { Flushable } from '../util/scheduler.js';
import { OutboundFrame } from '../wire/frame.js';
import type { Inbound, Transport, TransportOwner } from '../transports/transport.js';
import { detachAll } from './attach.js';
import type { Attachment } from './attachment.js';
import { formatConnectionKey, newConnectionId, newConnectionSecret, parseConnectionKey } from './connection-key.js';
import type { NodeContext } from './context.js';
import { rejectPayload, startPublish, type AckRecord } from './publish.js';
import { dispatch } from './dispatch.js';
import { InboundQueue, type InboundHandler } from './inbound.js';
import { Membership } from './membership.js';
import { sameLengthSecretsEqual } from '../auth/secret.js';
import { countDelivered } from '../stats/counters.js';
import type { ConnectionRecord } from '../engine/engine.js';
import { forgetConnection, suspendConnection } from './shared-state.js';

export type SessionState = 'connected' | 'disconnected' | 'closed';

/** How many recent ACK/NACK replies a session keeps to answer re-sent publishes identically. */
const ACK_MEMORY = 256;
/** Longest delay a timer takes (2^31 - 1 ms); a token expiring later is re-checked then. */
const MAX_TIMER_DELAY = 2_147_483_647;

export interface SessionParams {
  auth: AuthContext;
  clientId: string | undefined;
  echo: boolean;
  /** ms this connection's presence members stay after its transport drops abruptly. */
  remainPresentFor: number;
}

export class Session implements TransportOwner, Flushable, InboundHandler {
  flushQueued = false;
  readonly id: string;
  state: SessionState = 'connected';
  transport: Transport | null = null;
  auth: AuthContext;
  clientId: string | undefined;
  echo: boolean;
  remainPresentFor: number;
  readonly attachments = new Map<string, Attachment>();
  /** Highest msgSerial processed; anything at or below it is a re-send (RTN19a2). */
  msgSerialHigh = -1;
  private acks: Map<number, AckRecord> | null = null;
  private readonly secret: string;
  private keyGeneration = 0;
  /** Frames waiting for this tick's flush; null when none (most connections, most of the time). */
  private out: OutboundFrame[] | null = null;
  /** The last ACK queued; while it is still the last frame in `out` (unsent), the next consecutive ACK joins it. */
  private openAck: ProtocolMessage | null = null;
  /** The order client messages are handled in; created with the first one. */
  private inbound: InboundQueue | null = null;
  private expiry: TimerHandle | undefined = undefined;
  /** This connection's presence members; created when it first has some. */
  private membership: Membership | null = null;
  /** Fires at the token's expiry; set only while the session has a transport and a token. */
  private tokenTimer: TimerHandle | undefined = undefined;

  /** A new connection, or (`restored`) one taken over from another node. */
  constructor(
    readonly ctx: NodeContext,
    params: SessionParams,
    restored?: ConnectionRecord,
  ) {
    this.id = restored?.connectionId ?? newConnectionId();
    this.secret = newConnectionSecret();
    this.auth = params.auth;
    this.clientId = params.clientId;
    this.echo = params.echo;
    this.remainPresentFor = params.remainPresentFor;
    if (restored) {
      this.msgSerialHigh = restored.msgSerial;
      if (restored.presenceChannels.length > 0) this.membership = new Membership(this, restored.presenceChannels);
    }
  }

  /** The secret part of this connection's keys (hashed into shared state, never stored). */
  get connectionSecret(): string {
    return this.secret;
  }

  /** Channels where this connection has presence members. */
  presenceChannels(): string[] {
    return this.membership?.channels() ?? [];
  }

  get app(): AuthContext['app'] {
    return this.auth.app;
  }

  /** Whether `key` is a key of this connection (any generation). */
  ownsKey(key: string): boolean {
    const parsed = parseConnectionKey(key);
    return parsed !== undefined && parsed.connectionId === this.id && sameLengthSecretsEqual(parsed.secret, this.secret);
  }

  /** Adopts new credentials (resume, in-band AUTH); while connected, the session ends at the token's expiry. */
  setAuth(auth: AuthContext, clientId: string | undefined): void {
    this.auth = auth;
    this.clientId = clientId;
    this.armTokenExpiry();
  }

  /**
   * At the token's expiry the client is sent DISCONNECTED 40142 and the state is kept: the SDK gets
   * a new token and resumes, and the channel log replays what it missed (RTN15h).
   */
  private armTokenExpiry(): void {
    this.ctx.clock.clearTimeout(this.tokenTimer);
    this.tokenTimer = undefined;
    const expires = this.auth.expires;
    if (expires === undefined || !this.transport) return;
    const delay = Math.min(Math.max(0, expires - this.ctx.clock.now()), MAX_TIMER_DELAY);
    this.tokenTimer = this.ctx.clock.setTimeout(() => {
      this.tokenTimer = undefined;
      if (this.auth.expires !== expires) return;
      if (this.ctx.clock.now() < expires) this.armTokenExpiry();
      else this.disconnect(new AblyError(Err.tokenExpired, 'Token expired'));
    }, delay);
  }

  /** A fresh key for the next CONNECTED. */
  nextKey(): string {
    return formatConnectionKey(this.id, this.secret, ++this.keyGeneration);
  }

  // ---- transport binding ------------------------------------------------------------------------

  /** Makes `transport` this session's transport, ending any previous one (it is superseded). */
  bind(transport: Transport): void {
    const previous = this.transport;
    if (previous && previous !== transport) {
      this.transport = null;
      previous.end(new OutboundFrame({ action: Action.DISCONNECTED, error: new AblyError(Err.superseded, 'Connection resumed on another transport').toErrorInfo() }));
      detachAll(this);
    }
    this.ctx.clock.clearTimeout(this.expiry);
    this.expiry = undefined;
    // Resumed within remainPresentFor: the members never left.
    this.membership?.cancelLeave();
    this.transport = transport;
    this.state = 'connected';
    this.armTokenExpiry();
  }

  /** Sends CONNECTED (with `error` after a failed resume or recover). */
  sendConnected(error?: ErrorInfo): void {
    const o = this.ctx.options;
    const connectionKey = this.nextKey();
    const pm: ProtocolMessage = {
      action: Action.CONNECTED,
      connectionId: this.id,
      connectionDetails: {
        connectionKey,
        maxMessageSize: o.maxMessageSize,
        maxFrameSize: o.maxFrameSize,
        maxInboundRate: o.maxInboundRate,
        connectionStateTtl: o.connectionStateTtl,
        maxIdleInterval: o.maxIdleInterval,
        serverId: o.serverId,
      },
    };
    if (this.clientId !== undefined) pm.connectionDetails!.clientId = this.clientId;
    if (error) pm.error = error;
    this.send(pm);
  }

  transportGone(transport: Transport): void {
    if (transport !== this.transport) return;
    this.transport = null;
    this.out = null;
    this.ctx.clock.clearTimeout(this.tokenTimer);
    this.tokenTimer = undefined;
    detachAll(this);
    if (this.state !== 'connected') return;
    this.state = 'disconnected';
    this.expiry = this.ctx.clock.setTimeout(() => this.dispose('expired'), this.ctx.options.connectionStateTtl);
    suspendConnection(this);
    this.membership?.scheduleLeave(this.remainPresentFor);
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

  // ---- outbound ---------------------------------------------------------------------------------

  send(pm: ProtocolMessage): void {
    this.enqueue(new OutboundFrame(pm));
  }

  enqueue(frame: OutboundFrame): void {
    if (!this.transport) return;
    countDelivered(this.ctx.stats, this.auth.app.id, frame);
    (this.out ??= []).push(frame);
    this.ctx.scheduler.session(this);
  }

  flush(): void {
    const frames = this.out;
    if (!frames) return;
    this.out = null;
    this.transport?.write(frames);
  }

  // ---- inbound ----------------------------------------------------------------------------------

  /** Client messages, handled in order (inbound.ts): a publish's ACK precedes the next reply. */
  receive(pm: Inbound): void {
    if (this.state === 'closed') return;
    (this.inbound ??= new InboundQueue(this)).receive(pm);
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  get maxWaiting(): number {
    return this.ctx.options.maxInboundQueue;
  }

  handle(pm: Inbound): Promise<void> | void {
    return pm instanceof PayloadError ? rejectPayload(this, pm) : dispatch(this, pm);
  }

  publish(pm: Inbound): Promise<() => void> {
    return startPublish(this, pm);
  }

  idle(): void {
    this.inbound = null;
  }

  pause(): void {
    this.transport?.pauseReading();
  }

  resume(): void {
    this.transport?.resumeReading();
  }

  failed(err: unknown, pm: Inbound): void {
    const e = AblyError.from(err);
    if (e.code === Err.internal.code) this.ctx.logger.error({ err, connectionId: this.id, action: pm instanceof PayloadError ? pm.envelope.action : pm.action }, 'error handling client message');
    this.fail(e);
  }

  // ---- acknowledgements -------------------------------------------------------------------------

  /** Remembers and sends the reply to msgSerial so that a re-send gets the same answer. */
  acknowledge(record: AckRecord): void {
    const acks = (this.acks ??= new Map());
    acks.set(record.msgSerial, record);
    if (acks.size > ACK_MEMORY) acks.delete(acks.keys().next().value!);
    if (record.error) return this.send({ action: Action.NACK, msgSerial: record.msgSerial, count: 1, error: record.error });
    const result = { serials: record.serials ?? [] };
    // Publishes answered in one tick go out as one ACK {msgSerial, count: n, res: [n results]}
    // (RTN7a: an ACK may acknowledge a range): one encoding and one frame instead of n.
    const open = this.openAck;
    if (open && this.out?.[this.out.length - 1]?.pm === open && open.msgSerial! + open.count! === record.msgSerial) {
      open.count!++;
      open.res!.push(result);
      return;
    }
    const ack: ProtocolMessage = { action: Action.ACK, msgSerial: record.msgSerial, count: 1, res: [result] };
    this.openAck = ack;
    this.send(ack);
  }

  nack(msgSerial: number, err: AblyError): void {
    this.acknowledge({ msgSerial, error: err.toErrorInfo() });
  }

  /** The remembered reply to a re-sent msgSerial, if still remembered. */
  previousAck(msgSerial: number): AckRecord | undefined {
    return this.acks?.get(msgSerial);
  }

  // ---- endings ----------------------------------------------------------------------------------

  /** Client CLOSE: answer CLOSED, end the transport, forget the connection (RTN12). */
  close(): void {
    const t = this.transport;
    this.transport = null;
    t?.end(new OutboundFrame({ action: Action.CLOSED }));
    this.dispose('closed');
  }

  /** A fatal connection error: ERROR to the client, then the connection is gone (FAILED). */
  fail(err: AblyError): void {
    const t = this.transport;
    this.transport = null;
    t?.end(new OutboundFrame({ action: Action.ERROR, error: err.toErrorInfo() }));
    this.dispose('failed');
  }

  /** Another node took this connection over: end the transport it may still have here and forget it. */
  relinquish(): void {
    const t = this.transport;
    this.transport = null;
    t?.end(new OutboundFrame({ action: Action.DISCONNECTED, error: new AblyError(Err.superseded, 'Connection resumed on another node').toErrorInfo() }));
    this.dispose('moved');
  }

  /**
   * Tells the client to go away and come back (DISCONNECTED), keeping the state for a resume:
   * node drain, token expiry.
   */
  disconnect(err: AblyError): void {
    const t = this.transport;
    if (!t) return;
    t.end(new OutboundFrame({ action: Action.DISCONNECTED, error: err.toErrorInfo() }));
    this.transportGone(t);
  }

  /**
   * Forgets the connection on this node. Closed, failed or expired: it is gone everywhere and its
   * members leave at once. Moved (another node took it over), or this node shutting down while
   * state is shared: it lives on elsewhere, so its members stay and its shared record is kept.
   */
  dispose(reason: 'closed' | 'failed' | 'expired' | 'shutdown' | 'moved'): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.ctx.clock.clearTimeout(this.expiry);
    this.ctx.clock.clearTimeout(this.tokenTimer);
    this.expiry = this.tokenTimer = undefined;
    this.inbound?.clear();
    this.out = null;
    detachAll(this);
    const livesOn = reason === 'moved' || (reason === 'shutdown' && this.ctx.engine.connections !== undefined);
    if (livesOn) {
      this.membership?.cancelLeave();
    } else {
      forgetConnection(this);
      this.membership?.leaveAll();
    }
    this.ctx.sessions.remove(this);
    if (this.ctx.logger.isLevelEnabled('debug')) this.ctx.logger.debug({ connectionId: this.id, reason }, 'connection disposed');
  }
}
