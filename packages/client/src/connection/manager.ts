/**
 * The connection state machine (RTN): initialized → connecting → connected, and on loss
 * disconnected (retry after `disconnectedRetryTimeout` with backoff and jitter; the first retry
 * after a loss is immediate, RTN15a) → suspended once `connectionStateTtl` has passed without a
 * connection (clean connect every `suspendedRetryTimeout`); closing → closed; failed. One transport
 * at a time, tried in order with fallback; a resume keeps the connection id and the outbox.
 */
import type { ConnectionDetails, ProtocolMessage } from '@encke/protocol/types';
import { Action } from '@encke/protocol/constants';
import { Err, ErrorInfo, isFatal, isTokenError } from '../errors.js';
import type { Auth } from '../auth/auth.js';
import type { Codec } from '../codec/codec.js';
import { kit } from '../kit.js';
import type { ResolvedOptions } from '../options.js';
import { Emitter } from '../util/emitter.js';
import { Timer } from '../util/clock.js';
import type { HttpContext } from '../util/http.js';
import { DEFAULT_ORDER, type TransportName } from '../transports/names.js';
import { loadTransport, type Transport, type TransportContext } from '../transports/transport.js';
import { tryTransport, type Outcome } from './attempt.js';
import { Outbox, type PublishResult } from './outbox.js';
import { rememberedTransport, rememberTransport, retryDelay, transportOrder } from './retry.js';
import type { ConnectionEvent, ConnectionState, ConnectionStateChange } from './types.js';

/** The protocol version spoken: ACK `res` (serials), channelSerial resume, no connectionSerial. */
export const PROTOCOL_VERSION = '5';

/** What the channels need to hear from the connection. */
export interface ConnectionHooks {
  onMessage(pm: ProtocolMessage): void;
  onConnected(resumed: boolean): void;
  onState(state: ConnectionState, reason: ErrorInfo | undefined): void;
}

/** The recovery key (RTN16g): enough to resume the connection and its channels in another page. */
export interface RecoveryKey {
  connectionKey: string;
  msgSerial: number;
  channelSerials: Record<string, string>;
}

const SENDABLE: ReadonlySet<ConnectionState> = new Set(['connected']);
const QUEUEABLE: ReadonlySet<ConnectionState> = new Set(['initialized', 'connecting', 'disconnected']);

export class ConnectionManager {
  readonly events = new Emitter<ConnectionEvent, ConnectionStateChange>();
  state: ConnectionState = 'initialized';
  errorReason: ErrorInfo | undefined;
  id: string | undefined;
  key: string | undefined;
  details: ConnectionDetails | undefined;
  transport: Transport | undefined;
  readonly outbox = new Outbox();
  hooks: ConnectionHooks | undefined;

  private generation = 0;
  private connecting: Transport | undefined;
  private readonly retryTimer: Timer;
  private readonly idleTimer: Timer;
  private readonly closeTimer: Timer;
  private readonly renewTimer: Timer;
  private retries = 0;
  /** When the connection was last known good (or the first attempt began): the suspend clock. */
  private lastGood: number | undefined;
  private readonly demoted = new Set<TransportName>();
  private recover: RecoveryKey | undefined;
  private codec: Codec | undefined;
  private pings = new Map<string, () => void>();

  constructor(
    readonly options: ResolvedOptions,
    readonly auth: Auth,
    private readonly http: HttpContext,
    private readonly loadCodec: () => Promise<Codec>,
    readonly baseUrl: string,
  ) {
    const clock = options.clock;
    this.retryTimer = new Timer(clock);
    this.idleTimer = new Timer(clock);
    this.closeTimer = new Timer(clock);
    this.renewTimer = new Timer(clock);
    if (options.recover) this.recover = parseRecoveryKey(options.recover);
  }

  get recoveryChannelSerials(): Record<string, string> {
    return this.recover?.channelSerials ?? {};
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
        this.transport?.close();
        this.closeTimer.start(this.options.realtimeRequestTimeout, () => this.closed());
        return;
      }
      default:
        this.closed();
    }
  }

  /** Sends a message that is ACKed (MESSAGE, PRESENCE): queued while not connected if allowed. */
  sendAckable(pm: ProtocolMessage): Promise<PublishResult | undefined> {
    if (!SENDABLE.has(this.state) && !(this.options.queueMessages && QUEUEABLE.has(this.state))) {
      return Promise.reject(this.stateError());
    }
    if (this.state === 'initialized') this.connect();
    return this.outbox.add(pm, SENDABLE.has(this.state), (p) => this.transport?.send(p));
  }

  /** Sends a message that is not ACKed (ATTACH, DETACH, SYNC, AUTH, HEARTBEAT) if connected. */
  send(pm: ProtocolMessage): boolean {
    if (this.state !== 'connected' || !this.transport) return false;
    this.transport.send(pm);
    return true;
  }

  /** Round trip of a HEARTBEAT carrying an id (RTN13). */
  ping(): Promise<number> {
    if (this.state !== 'connected') return Promise.reject(this.stateError());
    const id = Math.random().toString(36).slice(2);
    const start = this.options.clock.now();
    return new Promise((resolve, reject) => {
      const timer = this.options.clock.setTimeout(() => {
        this.pings.delete(id);
        reject(ErrorInfo.of(Err.timeout, 'Ping timed out'));
      }, this.options.realtimeRequestTimeout);
      this.pings.set(id, () => {
        this.options.clock.clearTimeout(timer);
        resolve(this.options.clock.now() - start);
      });
      this.send({ action: Action.HEARTBEAT, id });
    });
  }

  /** After a new token: in band when connected (RTC8a), else the next connect uses it. */
  reauthorize(accessToken: string): void {
    if (this.state === 'connected') this.send({ action: Action.AUTH, auth: { accessToken } });
    else if (this.state === 'connecting') this.startConnecting();
    this.scheduleRenewal();
  }

  /** Drops the transport as if the network went (used for `offline` and tests). */
  drop(reason: ErrorInfo): void {
    const t = this.transport ?? this.connecting;
    if (!t) return;
    this.generation++;
    t.disconnect();
    this.lost(reason);
  }

  stateError(): ErrorInfo {
    switch (this.state) {
      case 'suspended':
        return ErrorInfo.of(Err.connectionSuspended, undefined, this.errorReason);
      case 'closing':
      case 'closed':
        return ErrorInfo.of(Err.connectionClosed);
      case 'failed':
        return this.errorReason ?? ErrorInfo.of(Err.connectionFailed);
      default:
        return ErrorInfo.of(Err.disconnected, `Connection is ${this.state}`);
    }
  }

  // ---- connecting ----

  private startConnecting(reason?: ErrorInfo): void {
    this.retryTimer.stop();
    this.lastGood ??= this.options.clock.now();
    this.setState('connecting', reason);
    void this.attempt(++this.generation);
  }

  private async attempt(gen: number): Promise<void> {
    let renewed = false;
    let lastErr: ErrorInfo | undefined;
    let ctx: TransportContext;
    try {
      ctx = await this.context();
    } catch (err) {
      if (gen === this.generation) this.refused(ErrorInfo.from(err), renewed);
      return;
    }
    const order = this.order();
    for (let i = 0; i < order.length; i++) {
      const name = order[i] as TransportName;
      if (gen !== this.generation) return;
      const mod = this.options.transportImplementations?.[name] ?? (await loadTransport(name).catch(() => undefined));
      if (gen !== this.generation) return;
      if (!mod?.supported(ctx)) continue;
      const deadline = i < order.length - 1 ? this.options.transportStallTimeout : this.options.realtimeRequestTimeout;
      const outcome: Outcome = await tryTransport(mod, ctx, deadline, this.live, (t) => (this.connecting = t));
      this.connecting = undefined;
      if (gen !== this.generation) {
        if (outcome.kind === 'connected') outcome.transport.disconnect();
        return;
      }
      if (outcome.kind === 'connected') return this.activate(name, outcome.transport, outcome.pm);
      const answered = outcome.kind === 'refused' || outcome.fatal || (outcome.err.code >= 40000 && outcome.err.code < 50000);
      if (!answered) {
        lastErr = outcome.err;
        this.demoted.add(name);
        continue;
      }
      if (isTokenError(outcome.err.code) && this.auth.canRenew && !renewed) {
        // RTN14b: one new token and one more try; a second token error leaves us disconnected.
        renewed = true;
        try {
          await this.auth.renew();
          ctx = await this.context();
        } catch (err) {
          if (gen === this.generation) this.refused(ErrorInfo.from(err), true);
          return;
        }
        if (gen !== this.generation) return;
        i--;
        continue;
      }
      if (outcome.kind === 'transport-failed' && outcome.fatal) return this.fail(outcome.err);
      return this.refused(outcome.err, renewed);
    }
    this.lost(lastErr ?? ErrorInfo.of(Err.connectionFailed, 'No transport could connect'));
  }

  /** The server (or the auth provider) said no: fail if final, else retry later. */
  private refused(err: ErrorInfo, renewed: boolean): void {
    if (isTokenError(err.code) && !this.auth.canRenew) return this.fail(ErrorInfo.of(Err.noTokenRenewal, undefined, err));
    if (isFatal(err) && !(isTokenError(err.code) && renewed)) return this.fail(err);
    this.lost(err);
  }

  private order(): TransportName[] {
    const base = this.options.transports ?? DEFAULT_ORDER;
    const host = `${this.options.host}:${this.options.port}`;
    const remembered = this.options.rememberTransport && !this.options.transports ? rememberedTransport(host) : undefined;
    return transportOrder(base, remembered, this.demoted);
  }

  private async context(): Promise<TransportContext> {
    this.codec ??= await this.loadCodec();
    const o = this.options;
    const params: Record<string, string> = {
      ...(await this.auth.queryParams()),
      format: this.codec.format,
      heartbeats: 'true',
      echo: String(o.echoMessages),
      v: PROTOCOL_VERSION,
    };
    if (o.clientId && this.auth.basic) params['clientId'] = o.clientId;
    if (this.key) params['resume'] = this.key;
    else if (this.recover && !this.id) params['recover'] = this.recover.connectionKey;
    for (const [k, v] of Object.entries(o.transportParams ?? {})) params[k] = String(v);
    const auth = this.auth;
    return {
      kit,
      options: o,
      codec: this.codec,
      http: this.http,
      params,
      baseUrl: this.baseUrl,
      authParams: (): Record<string, string> => (auth.basic ? { key: o.key ?? '' } : { access_token: auth.tokenDetails?.token ?? '' }),
    };
  }

  // ---- connected ----

  private activate(name: TransportName, t: Transport, pm: ProtocolMessage): void {
    this.transport = t;
    if (this.options.rememberTransport) rememberTransport(`${this.options.host}:${this.options.port}`, name);
    this.demoted.delete(name);
    const resumed = this.id !== undefined && this.id === pm.connectionId;
    const recovered = !this.id && this.recover !== undefined && pm.error === undefined;
    this.id = pm.connectionId;
    this.adoptDetails(pm);
    if (!resumed) this.outbox.msgSerial = recovered ? (this.recover?.msgSerial ?? 0) : 0;
    this.recover = undefined;
    this.retries = 0;
    this.lastGood = undefined;
    this.setState('connected', pm.error ? ErrorInfo.from(pm.error) : undefined);
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

  private readonly live = {
    onMessage: (t: Transport, pm: ProtocolMessage): void => {
      if (t === this.transport) this.onMessage(pm);
    },
    onClose: (t: Transport, err: ErrorInfo | undefined, fatal: boolean): void => {
      if (t !== this.transport) return;
      this.transport = undefined;
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
        // RTN24: a CONNECTED while connected (after AUTH) updates details and emits `update`.
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
        void this.renewAndReauth();
        return;
      default:
        this.hooks?.onMessage(pm);
    }
  }

  /** DISCONNECTED or ERROR from the server while connected (RTN15h, RTN15i). */
  private serverEnded(err: ErrorInfo, isError: boolean): void {
    const t = this.transport;
    this.transport = undefined;
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

  private async renewAndReauth(): Promise<void> {
    try {
      const t = await this.auth.renew();
      this.reauthorize(t.token);
    } catch (err) {
      this.lost(ErrorInfo.from(err));
    }
  }

  private scheduleRenewal(): void {
    const ms = this.auth.renewInMs();
    if (ms === undefined) return this.renewTimer.stop();
    this.renewTimer.start(ms, () => void this.renewAndReauth());
  }

  /** RTN23a: no inbound traffic for maxIdleInterval + realtimeRequestTimeout means the transport is dead. */
  private resetIdle(): void {
    const maxIdle = this.details?.maxIdleInterval;
    if (!maxIdle) return;
    const ms = maxIdle + this.options.realtimeRequestTimeout;
    this.idleTimer.start(ms, () => {
      const t = this.transport;
      if (!t) return;
      this.transport = undefined;
      t.disconnect();
      // A stream that goes silent is likely buffered by a proxy: prefer another transport next.
      this.demoted.add(t.name);
      this.lost(new ErrorInfo(`No activity seen from the server in ${ms} ms`, Err.disconnected.code, 408));
    });
  }

  // ---- losing and ending ----

  /** Disconnected: retry, or suspended once connectionStateTtl has passed since the connection was good. */
  private lost(reason: ErrorInfo): void {
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

  private fail(err: ErrorInfo): void {
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
    this.generation++;
    for (const timer of [this.retryTimer, this.idleTimer, this.closeTimer, this.renewTimer]) timer.stop();
    const t = this.transport ?? this.connecting;
    this.transport = undefined;
    this.connecting = undefined;
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
    this.events.emit(state, change);
  }

  private emitUpdate(reason: ErrorInfo | undefined): void {
    const change: ConnectionStateChange = { previous: this.state, current: this.state, event: 'update' };
    if (reason) {
      change.reason = reason;
      this.errorReason = reason;
    }
    this.events.emit('update', change);
  }
}

/** Parses a recovery key; an unreadable one is ignored (a clean connection follows, RTN16f). */
export function parseRecoveryKey(text: string): RecoveryKey | undefined {
  try {
    const v = JSON.parse(text) as Partial<RecoveryKey>;
    if (typeof v.connectionKey !== 'string' || typeof v.msgSerial !== 'number') return undefined;
    return { connectionKey: v.connectionKey, msgSerial: v.msgSerial, channelSerials: v.channelSerials ?? {} };
  } catch {
    return undefined;
  }
}
