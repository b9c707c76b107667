/** The public connection object (RTN): state, id, key, events, connect, close, ping, recovery key. */
import type { ErrorInfo } from '../errors.js';
import type { Listener } from '../util/emitter.js';
import type { ConnectionManager } from './manager.js';
import type { ConnectionEvent, ConnectionState, ConnectionStateChange } from './types.js';

export class Connection {
  constructor(
    private readonly manager: ConnectionManager,
    private readonly channelSerials: () => Record<string, string>,
  ) {}

  get state(): ConnectionState {
    return this.manager.state;
  }
  get id(): string | undefined {
    return this.manager.id;
  }
  get key(): string | undefined {
    return this.manager.key;
  }
  get errorReason(): ErrorInfo | undefined {
    return this.manager.errorReason;
  }
  /** The transport in use, e.g. `web_socket` or `xhr_streaming`. */
  get transport(): string | undefined {
    return this.manager.transport?.name;
  }

  on(listener: Listener<ConnectionStateChange>): void;
  on(events: ConnectionEvent | ConnectionEvent[], listener: Listener<ConnectionStateChange>): void;
  on(a: ConnectionEvent | ConnectionEvent[] | Listener<ConnectionStateChange>, b?: Listener<ConnectionStateChange>): void {
    this.manager.events.on(a, b);
  }

  once(listener: Listener<ConnectionStateChange>): void;
  once(event?: ConnectionEvent | ConnectionEvent[]): Promise<ConnectionStateChange>;
  once(a?: ConnectionEvent | ConnectionEvent[] | Listener<ConnectionStateChange>): void | Promise<ConnectionStateChange> {
    if (typeof a === 'function') return this.manager.events.once(a);
    return this.manager.events.once(a);
  }

  off(listener?: Listener<ConnectionStateChange>): void;
  off(events: ConnectionEvent | ConnectionEvent[], listener?: Listener<ConnectionStateChange>): void;
  off(a?: ConnectionEvent | ConnectionEvent[] | Listener<ConnectionStateChange>, b?: Listener<ConnectionStateChange>): void {
    this.manager.events.off(a, b);
  }

  /** Resolves when the connection is in `state` (at once if it already is). */
  async whenState(state: ConnectionState): Promise<ConnectionStateChange | null> {
    if (this.manager.state === state) return null;
    return this.manager.events.once(state);
  }

  connect(): void {
    this.manager.connect();
  }

  close(): void {
    this.manager.close();
  }

  /** Round-trip time of a HEARTBEAT, in ms. */
  ping(): Promise<number> {
    return this.manager.ping();
  }

  /** A key to give `recover` in another page (or after a reload) to continue this connection (RTN16g). */
  createRecoveryKey(): string | null {
    const key = this.manager.key;
    if (!key || this.manager.state === 'closed' || this.manager.state === 'failed' || this.manager.state === 'suspended') return null;
    return JSON.stringify({ connectionKey: key, msgSerial: this.manager.outbox.msgSerial, channelSerials: this.channelSerials() });
  }
}
