/**
 * A realtime channel (RTL): attach/detach with their states, subscribe by name, publish with ACK,
 * history over REST. Continuity: every ATTACH after the first carries the last channelSerial, so
 * a resumed or recovered attachment delivers exactly what was missed.
 */
import type { Message as WireMessage, ProtocolMessage } from '@encke/protocol/types';
import { Action, ChannelMode, Flag, type ChannelModeName } from '@encke/protocol/constants';
import { Err, ErrorInfo } from '../errors.js';
import type { ConnectionManager } from '../connection/manager.js';
import { Emitter, type Listener } from '../util/emitter.js';
import { Timer } from '../util/clock.js';
import { randomId } from '../util/bytes.js';
import { decodeMessage, encodeData, type Message } from './message.js';
import type { PaginatedResult, PageRequest } from './paginated.js';
import { RealtimePresence } from './presence.js';

export type ChannelState = 'initialized' | 'attaching' | 'attached' | 'detaching' | 'detached' | 'suspended' | 'failed';
export type ChannelEvent = ChannelState | 'update';

export interface ChannelStateChange {
  previous: ChannelState;
  current: ChannelState;
  event: ChannelEvent;
  reason?: ErrorInfo;
  /** Whether the attachment continued the previous one with nothing missed (RTL2f). */
  resumed: boolean;
}

export interface ChannelOptions {
  /** Attach params: `rewind` (`"10"`, `"30s"`), `modes`, … */
  params?: Record<string, string>;
  modes?: ChannelModeName[];
}

export interface HistoryParams {
  start?: number;
  end?: number;
  direction?: 'forwards' | 'backwards';
  limit?: number;
  /** Everything up to this attachment's start (RTL10b). */
  untilAttach?: boolean;
}

/** A channel; `on`/`once`/`off` listen to its state changes. */
export class RealtimeChannel extends Emitter<ChannelEvent, ChannelStateChange> {
  readonly presence: RealtimePresence;
  state: ChannelState = 'initialized';
  errorReason: ErrorInfo | undefined;
  params: Record<string, string> = {};
  modes: ChannelModeName[] = [];
  /** Where delivery has reached (RTL15b): sent with every re-attach. */
  channelSerial: string | undefined;
  /** The channelSerial of the ATTACHED that started this attachment: `untilAttach` history. */
  attachSerial: string | undefined;
  private readonly subscribers = new Emitter<string, Message>();
  private readonly timer: Timer;
  private waiters: { resolve(c: ChannelStateChange | null): void; reject(e: ErrorInfo): void }[] = [];
  private detachWaiters: { resolve(): void; reject(e: ErrorInfo): void }[] = [];

  constructor(
    readonly name: string,
    private readonly conn: ConnectionManager,
    private readonly pages: PageRequest,
    private options: ChannelOptions = {},
  ) {
    super();
    this.timer = new Timer(conn.options.clock);
    this.presence = new RealtimePresence(this, conn, pages);
  }

  setOptions(options: ChannelOptions): Promise<void> {
    this.options = options;
    if (this.state === 'attached' || this.state === 'attaching') return this.attach().then(() => undefined);
    return Promise.resolve();
  }

  /** Attaches (RTL4); resolves with the state change, or null if already attached. */
  attach(): Promise<ChannelStateChange | null> {
    if (this.state === 'attached') return Promise.resolve(null);
    const connState = this.conn.state;
    // RTL4b: no attaching on a connection that is closing, closed, failed or suspended.
    if (connState === 'closing' || connState === 'closed' || connState === 'failed' || connState === 'suspended')
      return Promise.reject(this.conn.stateError());
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (this.state !== 'attaching') this.requestAttach();
    });
  }

  detach(): Promise<void> {
    if (this.state === 'initialized' || this.state === 'detached') return Promise.resolve();
    if (this.state === 'failed') return Promise.reject(this.errorReason ?? ErrorInfo.of(Err.channelInvalidState));
    return new Promise((resolve, reject) => {
      this.detachWaiters.push({ resolve, reject });
      if (this.conn.state !== 'connected') return this.detached();
      this.setState('detaching');
      this.conn.send({ action: Action.DETACH, channel: this.name });
      this.timer.start(this.conn.options.realtimeRequestTimeout, () => this.detached());
    });
  }

  /** Subscribes (all messages, or those of some names) and attaches (RTL7). */
  subscribe(listener: Listener<Message>): Promise<ChannelStateChange | null>;
  subscribe(names: string | string[], listener: Listener<Message>): Promise<ChannelStateChange | null>;
  subscribe(a: string | string[] | Listener<Message>, b?: Listener<Message>): Promise<ChannelStateChange | null> {
    this.subscribers.on(a, b);
    return this.attach();
  }

  unsubscribe(listener?: Listener<Message>): void;
  unsubscribe(names: string | string[], listener?: Listener<Message>): void;
  unsubscribe(a?: string | string[] | Listener<Message>, b?: Listener<Message>): void {
    this.subscribers.off(a, b);
  }

  /** Publishes one message, or several in one ProtocolMessage; resolves on ACK (RTL6). */
  publish(name: string | undefined, data?: unknown): Promise<void>;
  publish(message: Message | Message[]): Promise<void>;
  async publish(a: string | undefined | Message | Message[], data?: unknown): Promise<void> {
    const list: Message[] = Array.isArray(a)
      ? a
      : typeof a === 'object' && a !== null
        ? [a]
        : [{ ...(a === undefined ? {} : { name: a }), data }];
    const format = this.conn.options.format;
    const base = randomId(12);
    // Ids make publishes idempotent: re-sent after a failed resume, they are not stored twice (RTL6a1).
    const messages: WireMessage[] = list.map(({ data, ...m }, i) => ({
      ...m,
      id: m.id ?? `${base}:${i}`,
      ...encodeData(data, format),
    }));
    await this.conn.sendAckable({ action: Action.MESSAGE, channel: this.name, messages });
  }

  async history(params: HistoryParams = {}): Promise<PaginatedResult<Message>> {
    const { untilAttach, ...rest } = params;
    if (untilAttach && (this.state !== 'attached' || !this.attachSerial))
      throw ErrorInfo.of(Err.badRequest, 'untilAttach needs an attached channel');
    const query = untilAttach ? { ...rest, from_serial: this.attachSerial } : rest;
    return (await import('./paginated.js')).history(this.pages, this.conn.baseUrl, this.name, 'messages', query);
  }

  // ---- driven by the connection ----

  /** An ATTACH for this channel: its modes and params, and where to resume from. */
  private requestAttach(reason?: ErrorInfo): void {
    this.setState('attaching', reason);
    this.conn.connect();
    this.sendAttach();
  }

  private sendAttach(): void {
    if (this.conn.state !== 'connected') return;
    const pm: ProtocolMessage = { action: Action.ATTACH, channel: this.name };
    if (this.channelSerial) pm.channelSerial = this.channelSerial;
    if (this.options.params) pm.params = this.options.params;
    let flags = 0;
    for (const m of this.options.modes ?? []) flags |= ChannelMode[m];
    if (flags) pm.flags = flags;
    this.conn.send(pm);
    this.timer.start(this.conn.options.realtimeRequestTimeout, () =>
      this.suspend(ErrorInfo.of(Err.channelOperationTimeout, 'Attach timed out')),
    );
  }

  onConnected(): void {
    if (this.state === 'attached') {
      this.sendAttach();
      this.timer.stop();
    } else if (this.state === 'attaching' || this.state === 'suspended') this.requestAttach();
  }

  onConnectionState(state: string, reason: ErrorInfo | undefined): void {
    if (state === 'suspended' && (this.state === 'attached' || this.state === 'attaching'))
      this.suspend(ErrorInfo.of(Err.connectionSuspended, undefined, reason));
    else if (state === 'closed' && this.state !== 'failed' && this.state !== 'initialized') this.detached();
    else if (state === 'failed' && this.state !== 'initialized' && this.state !== 'detached')
      this.failed(reason ?? ErrorInfo.of(Err.connectionFailed));
  }

  onMessage(pm: ProtocolMessage): void {
    switch (pm.action) {
      case Action.ATTACHED:
        return this.attached(pm);
      case Action.DETACHED:
        if (this.state === 'detaching') return this.detached();
        // RTL13: the server detached us: re-attach at once; a failing re-attach suspends the channel.
        if (this.state === 'attached' || this.state === 'attaching' || this.state === 'suspended')
          this.requestAttach(pm.error ? ErrorInfo.from(pm.error) : undefined);
        return;
      case Action.ERROR:
        return this.failed(ErrorInfo.from(pm.error, Err.channelOperationFailed));
      case Action.MESSAGE:
        return this.messages(pm);
      case Action.PRESENCE:
      case Action.SYNC:
        if (this.state !== 'attached') return;
        if (pm.action === Action.PRESENCE && pm.channelSerial) this.channelSerial = pm.channelSerial;
        return this.presence.onMessage(pm);
    }
  }

  private attached(pm: ProtocolMessage): void {
    this.timer.stop();
    const resumed = ((pm.flags ?? 0) & Flag.RESUMED) !== 0;
    if (pm.channelSerial) this.channelSerial = pm.channelSerial;
    if (!resumed || this.state !== 'attached') this.attachSerial = pm.channelSerial;
    this.params = pm.params ?? {};
    this.modes = (Object.keys(ChannelMode) as ChannelModeName[]).filter(
      (m) => ((pm.flags ?? 0) & ChannelMode[m]) !== 0,
    );
    const error = pm.error ? ErrorInfo.from(pm.error) : undefined;
    const wasAttached = this.state === 'attached';
    if (wasAttached) {
      // RTL12: an ATTACHED while attached is an update, announced unless it continued the attachment.
      if (!resumed || error) this.announce('attached', 'update', error, resumed);
    } else this.setState('attached', error, resumed);
    this.presence.onAttached(((pm.flags ?? 0) & Flag.HAS_PRESENCE) !== 0, resumed && wasAttached);
    for (const w of this.waiters.splice(0)) w.resolve(null);
  }

  private messages(pm: ProtocolMessage): void {
    if (this.state !== 'attached') return; // RTL17
    if (pm.channelSerial) this.channelSerial = pm.channelSerial;
    (pm.messages ?? []).forEach((wire, i) => {
      const m = decodeMessage(wire);
      // TM2a/c/f: fields left to the ProtocolMessage.
      m.id ??= `${pm.id ?? ''}:${i}`;
      m.connectionId ??= pm.connectionId;
      m.timestamp ??= pm.timestamp;
      this.subscribers.emit(m.name ?? '', m);
    });
  }

  private suspend(reason: ErrorInfo): void {
    this.timer.stop();
    this.setState('suspended', reason);
    for (const w of this.waiters.splice(0)) w.reject(reason);
    // RTL13b: try again after channelRetryTimeout while the connection is up.
    this.timer.start(this.conn.options.channelRetryTimeout, () => {
      if (this.state === 'suspended' && this.conn.state === 'connected') this.requestAttach();
    });
  }

  private detached(): void {
    this.timer.stop();
    this.presence.onDetached();
    this.setState('detached');
    for (const w of this.detachWaiters.splice(0)) w.resolve();
    for (const w of this.waiters.splice(0)) w.reject(ErrorInfo.of(Err.channelInvalidState, 'Channel detached'));
  }

  private failed(reason: ErrorInfo): void {
    this.timer.stop();
    this.presence.onDetached();
    this.setState('failed', reason);
    for (const w of this.waiters.splice(0)) w.reject(reason);
    for (const w of this.detachWaiters.splice(0)) w.reject(reason);
  }

  private setState(state: ChannelState, reason?: ErrorInfo, resumed = false): void {
    if (state === this.state && !reason) return;
    const previous = this.state;
    this.state = state;
    this.announce(previous, state, reason, resumed);
  }

  private announce(previous: ChannelState, event: ChannelEvent, reason: ErrorInfo | undefined, resumed: boolean): void {
    if (reason) this.errorReason = reason;
    const change: ChannelStateChange = { previous, current: this.state, event, resumed };
    if (reason) change.reason = reason;
    this.emit(event, change);
  }
}
