/**
 * The connection state machine (RTN): initialized → connecting → connected, and on loss
 * disconnected (retry after `disconnectedRetryTimeout` with backoff and jitter; the first retry
 * after a loss is immediate, RTN15a) → suspended once `connectionStateTtl` has passed without a
 * connection (clean connect every `suspendedRetryTimeout`); closing → closed; failed. One transport
 * at a time, tried in order with fallback; a resume keeps the connection id and the outbox.
 */
import type { ConnectionDetails, ProtocolMessage } from '@encke/protocol/types';
import { Action } from '@encke/protocol/constants';
import { Err, ErrorInfo, isTokenError } from '../errors.js';
import type { Auth } from '../auth/auth.js';
import type { Codec } from '../codec/codec.js';
import type { ResolvedOptions } from '../options.js';
import { Emitter } from '../util/emitter.js';
import { kit } from '../kit.js';
import { Timer } from '../util/clock.js';
import type { HttpContext } from '../util/http.js';
import type { Transport } from '../transports/transport.js';
import { Connector, type ConnectorHost } from './connector.js';
import { Outbox, type PublishResult } from './outbox.js';
import { rememberTransport, retryDelay } from './retry.js';
import { parseRecoveryKey, type RecoveryKey } from './recovery.js';
import type { Connection } from './connection.js';
import type { ConnectionEvent, ConnectionState, ConnectionStateChange } from './types.js';

/** What the channels need to hear from the connection. */
export interface ConnectionHooks {
  onMessage(pm: ProtocolMessage): void;
  onConnected(resumed: boolean): void;
  onState(state: ConnectionState, reason: ErrorInfo | undefined): void;
  /** channelSerials of attached channels, for the recovery key. */
  serials(): Record<string, string>;
}

/** States in which a publish waits for the connection (RTL6c2) when `queueMessages` allows. */
const QUEUEABLE: readonly ConnectionState[] = ['initialized', 'connecting', 'disconnected'];

export class ConnectionManager
  extends Emitter<ConnectionEvent, ConnectionStateChange>
  implements ConnectorHost, Connection
{
  state: ConnectionState = 'initialized';
  errorReason: ErrorInfo | undefined;
  id: string | undefined;
  key: string | undefined;
  details: ConnectionDetails | undefined;
  /** The transport in use. */
  active: Transport | undefined;
  readonly outbox = new Outbox();
  hooks: ConnectionHooks | undefined;

  private readonly retryTimer: Timer;
  private readonly idleTimer: Timer;
  private readonly closeTimer: Timer;
  /** Token renewal before expiry (extras.ts). */
  readonly renewTimer: Timer;
  private retries = 0;
  /** When the connection was last known good (or the first attempt began): the suspend clock. */
  private lastGood: number | undefined;
  private recover: RecoveryKey | undefined;
  private readonly connector: Connector;
  /** Pings waiting for their HEARTBEAT, by id (extras.ts). */
  readonly pings = new Map<string, () => void>();
  /** AUTHs sent and not yet answered by CONNECTED. */
  private authPending = 0;

  constructor(
    readonly options: ResolvedOptions,
    readonly auth: Auth,
    http: HttpContext,
    loadCodec: () => Promise<Codec>,
    readonly baseUrl: string,
  ) {
    super();
    const clock = options.clock;
    this.retryTimer = new Timer(clock);
    this.idleTimer = new Timer(clock);
    this.closeTimer = new Timer(clock);
    this.renewTimer = new Timer(clock);
    if (options.recover) this.recover = parseRecoveryKey(options.recover);
    this.connector = new Connector(this, http, loadCodec);
  }

  get recoverKey(): string | undefined {
    return this.recover?.connectionKey;
  }

  get recoveryChannelSerials(): Record<string, string> {
    return this.recover?.channelSerials ?? {};
  }

  get transport(): string | undefined {
    return this.active?.name;
  }

  async whenState(state: ConnectionState): Promise<ConnectionStateChange | null> {
    return this.state === state ? null : this.once(state);
  }

  async ping(): Promise<number> {
    return (await import('../extras.js')).ping(kit, this);
  }

  createRecoveryKey(): string | null {
    const ok = this.key && (this.state === 'connected' || this.state === 'connecting' || this.state === 'disconnected');
    return ok
      ? JSON.stringify({
          connectionKey: this.key,
          msgSerial: this.outbox.msgSerial,
          channelSerials: this.hooks?.serials() ?? {},
        })
      : null;
  }

  connect(): void {
    if (this.state === 'connected' || this.state === 'connecting' || this.state === 'closing') return;
    this.startConnecting();
  }

  close(): void {
    switch (this.state) {
      case 'closing':
      case 'closed':
      case 'failed':
        return;
      case 'connected': {
        this.setState('closing');
        this.active?.close();
        this.closeTimer.start(this.options.realtimeRequestTimeout, () => this.closed());
        return;
      }
      default:
        this.closed();
    }
  }

  /** Sends a message that is ACKed (MESSAGE, PRESENCE): queued while not connected if allowed. */
  sendAckable(pm: ProtocolMessage): Promise<PublishResult | undefined> {
    const now = this.state === 'connected';
    if (!now && !(this.options.queueMessages && QUEUEABLE.includes(this.state))) {
      return Promise.reject(this.stateError());
    }
    if (this.state === 'initialized') this.connect();
    return this.outbox.add(pm, now, (p) => this.active?.send(p));
  }

  /** Sends a message that is not ACKed (ATTACH, DETACH, SYNC, AUTH, HEARTBEAT) if connected. */
  send(pm: ProtocolMessage): boolean {
    if (this.state !== 'connected' || !this.active) return false;
    this.active.send(pm);
    return true;
  }

  /** After a new token: in band when connected (RTC8a), else the next connect uses it. */
  reauthorize(accessToken: string): void {
    if (this.state === 'connected' && this.send({ action: Action.AUTH, auth: { accessToken } })) this.authPending++;
    else if (this.state === 'connecting') this.startConnecting();
    this.scheduleRenewal();
  }

  /** Drops the transport as if the network went (used for `offline` and tests). */
  drop(reason: ErrorInfo): void {
    const t = this.connector.cancel() ?? this.active;
    if (!t) return;
    this.active = undefined;
    t.disconnect();
    this.lost(reason);
  }

  /** Why nothing can be sent now (RTN7c): suspended 80002, closed 80017, failed its reason, else 80003. */
  stateError(): ErrorInfo {
    const s = this.state;
    if (s === 'failed') return this.errorReason ?? ErrorInfo.of(Err.connectionFailed);
    const def =
      s === 'suspended'
        ? Err.connectionSuspended
        : s === 'closing' || s === 'closed'
          ? Err.connectionClosed
          : Err.disconnected;
    return ErrorInfo.of(def, `${def.message} (connection ${s})`, this.errorReason);
  }

  // ---- connecting ----

  private startConnecting(reason?: ErrorInfo): void {
    this.retryTimer.stop();
    this.lastGood ??= this.options.clock.now();
    this.setState('connecting', reason);
    this.connector.start();
  }

  // ---- connected ----

  activate(t: Transport, pm: ProtocolMessage): void {
    this.active = t;
    this.authPending = 0;
    if (this.options.rememberTransport) rememberTransport(`${this.options.host}:${this.options.port}`, t.name);
    this.connector.demoted.delete(t.name);
    const resumed = this.id !== undefined && this.id === pm.connectionId;
    const recovered = !this.id && this.recover !== undefined && pm.error === undefined;
    this.id = pm.connectionId;
    this.adoptDetails(pm);
    if (!resumed) this.outbox.msgSerial = recovered ? (this.recover?.msgSerial ?? 0) : 0;
    this.recover = undefined;
    this.retries = 0;
    this.lastGood = undefined;
    // A CONNECTED on a live transport (an SSE stream the browser reconnected, resumed by the
    // server) is a resume without a state change: announced as an update.
    const reason = pm.error ? ErrorInfo.from(pm.error) : undefined;
    if (this.state === 'connected') this.emitUpdate(reason);
    else this.setState('connected', reason);
    this.resetIdle();
    this.scheduleRenewal();
    this.hooks?.onConnected(resumed || recovered);
    this.outbox.resend(resumed, (p) => t.send(p));
  }

  private adoptDetails(pm: ProtocolMessage): void {
    const d = pm.connectionDetails;
    if (!d) return;
    this.details = d;
    this.key = d.connectionKey;
    if (d.clientId && d.clientId !== '*') this.auth.clientId = d.clientId;
  }

  readonly live = {
    onMessage: (t: Transport, pm: ProtocolMessage): void => {
      if (t === this.active) this.onMessage(pm);
    },
    onClose: (t: Transport, err: ErrorInfo | undefined, fatal: boolean): void => {
      if (t !== this.active) return;
      this.active = undefined;
      if (this.state === 'closing') return this.closed();
      if (fatal && err) return this.fail(err);
      this.lost(err ?? ErrorInfo.of(Err.disconnected, 'Transport closed'));
    },
  };

  private onMessage(pm: ProtocolMessage): void {
    this.resetIdle();
    switch (pm.action) {
      case Action.HEARTBEAT:
        if (pm.id) this.pings.get(pm.id)?.();
        return;
      case Action.ACK:
        return this.outbox.ack(pm.msgSerial ?? 0, pm.count ?? 1, pm.res);
      case Action.NACK:
        return this.outbox.nack(pm.msgSerial ?? 0, pm.count ?? 1, ErrorInfo.from(pm.error, Err.internalChannel));
      case Action.CONNECTED:
        if (this.authPending === 0 && this.active) return this.activate(this.active, pm);
        // RTN24: the answer to our AUTH updates details and emits `update`.
        this.authPending--;
        this.adoptDetails(pm);
        return this.emitUpdate(pm.error ? ErrorInfo.from(pm.error) : undefined);
      case Action.DISCONNECTED:
        return this.serverEnded(ErrorInfo.from(pm.error, Err.disconnected), false);
      case Action.ERROR:
        if (pm.channel) return this.hooks?.onMessage(pm);
        return this.serverEnded(ErrorInfo.from(pm.error, Err.connectionFailed), true);
      case Action.CLOSED:
        if (this.state === 'closing') this.closed();
        return;
      case Action.AUTH:
        void this.extras().then((x) => x.renewAndReauth(kit, this));
        return;
      default:
        this.hooks?.onMessage(pm);
    }
  }

  /** DISCONNECTED or ERROR from the server while connected (RTN15h, RTN15i). */
  private serverEnded(err: ErrorInfo, isError: boolean): void {
    const t = this.active;
    this.active = undefined;
    t?.disconnect();
    if (this.state === 'closing') return this.closed();
    if (isTokenError(err.code)) {
      if (!this.auth.canRenew) return this.fail(ErrorInfo.of(Err.noTokenRenewal, undefined, err));
      // The token is renewed by the next attempt: drop it so that attempt fetches a new one.
      this.auth.tokenDetails = undefined;
      return this.lost(err);
    }
    if (isError && err.statusCode < 500) return this.fail(err);
    this.lost(err);
  }

  /** Token auth: renewal before expiry is scheduled by extras.ts, loaded only by clients with tokens. */
  private scheduleRenewal(): void {
    if (!this.auth.basic) void this.extras().then((x) => x.scheduleRenewal(kit, this));
  }

  /** Token renewal (extras.ts), loaded on first use. */
  private extras(): Promise<typeof import('../extras.js')> {
    return import('../extras.js');
  }

  /** RTN23a: no inbound traffic for maxIdleInterval + realtimeRequestTimeout means the transport is dead. */
  private resetIdle(): void {
    const maxIdle = this.details?.maxIdleInterval;
    if (!maxIdle) return;
    const ms = maxIdle + this.options.realtimeRequestTimeout;
    this.idleTimer.start(ms, () => {
      const t = this.active;
      if (!t) return;
      this.active = undefined;
      t.disconnect();
      // A stream that goes silent is likely buffered by a proxy: prefer another transport next.
      this.connector.demoted.add(t.name);
      this.lost(new ErrorInfo(`No activity seen from the server in ${ms} ms`, Err.disconnected.code, 408));
    });
  }

  // ---- losing and ending ----

  /** Disconnected: retry, or suspended once connectionStateTtl has passed since the connection was good. */
  lost(reason: ErrorInfo): void {
    const wasConnected = this.state === 'connected';
    this.idleTimer.stop();
    this.renewTimer.stop();
    this.lastGood ??= this.options.clock.now();
    const ttl = this.details?.connectionStateTtl ?? this.options.connectionStateTtl;
    if (this.options.clock.now() - this.lastGood >= ttl) return this.suspend(reason);
    const delay = wasConnected ? 0 : retryDelay(this.options.disconnectedRetryTimeout, ++this.retries);
    this.setState('disconnected', reason, delay);
    this.retryTimer.start(delay, () => this.startConnecting());
  }

  private suspend(reason: ErrorInfo): void {
    // RTN15g: past the TTL the server has forgotten us; the next connect is a clean one.
    this.key = undefined;
    this.setState('suspended', reason, this.options.suspendedRetryTimeout);
    this.outbox.failAll(ErrorInfo.of(Err.connectionSuspended, undefined, reason));
    this.retryTimer.start(this.options.suspendedRetryTimeout, () => this.startConnecting());
  }

  fail(err: ErrorInfo): void {
    this.teardown();
    this.key = undefined;
    this.setState('failed', err);
    this.outbox.failAll(err);
  }

  private closed(): void {
    this.teardown();
    this.key = undefined;
    this.id = undefined;
    this.setState('closed');
    this.outbox.failAll(ErrorInfo.of(Err.connectionClosed));
  }

  private teardown(): void {
    for (const timer of [this.retryTimer, this.idleTimer, this.closeTimer, this.renewTimer]) timer.stop();
    const t = this.connector.cancel() ?? this.active;
    this.active = undefined;
    t?.disconnect();
  }

  private setState(state: ConnectionState, reason?: ErrorInfo, retryIn?: number): void {
    const previous = this.state;
    this.state = state;
    if (reason) this.errorReason = reason;
    else if (state === 'connected') this.errorReason = undefined;
    const change: ConnectionStateChange = { previous, current: state, event: state };
    if (reason) change.reason = reason;
    if (retryIn !== undefined) change.retryIn = retryIn;
    this.hooks?.onState(state, reason);
    this.emit(state, change);
  }

  private emitUpdate(reason: ErrorInfo | undefined): void {
    const change: ConnectionStateChange = { previous: this.state, current: this.state, event: 'update' };
    if (reason) {
      change.reason = reason;
      this.errorReason = reason;
    }
    this.emit('update', change);
  }
}
