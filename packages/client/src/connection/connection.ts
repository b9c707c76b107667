/** The public connection (RTN): state, id, key, events, connect, close, ping, recovery key. */
import type { ErrorInfo } from '../errors.js';
import type { Listener } from '../util/emitter.js';
import type { ConnectionEvent, ConnectionState, ConnectionStateChange } from './types.js';

export interface Connection {
  readonly state: ConnectionState;
  readonly id: string | undefined;
  readonly key: string | undefined;
  readonly errorReason: ErrorInfo | undefined;
  /** The transport in use, e.g. `web_socket` or `xhr_streaming`. */
  readonly transport: string | undefined;
  on(listener: Listener<ConnectionStateChange>): void;
  on(events: ConnectionEvent | ConnectionEvent[], listener: Listener<ConnectionStateChange>): void;
  once(listener: Listener<ConnectionStateChange>): void;
  once(events: ConnectionEvent | ConnectionEvent[], listener: Listener<ConnectionStateChange>): void;
  once(events?: ConnectionEvent | ConnectionEvent[]): Promise<ConnectionStateChange>;
  off(listener?: Listener<ConnectionStateChange>): void;
  off(events: ConnectionEvent | ConnectionEvent[], listener?: Listener<ConnectionStateChange>): void;
  /** Resolves when the connection is in `state` (at once, with null, if it already is). */
  whenState(state: ConnectionState): Promise<ConnectionStateChange | null>;
  connect(): void;
  close(): void;
  /** Round-trip time of a HEARTBEAT, in ms. */
  ping(): Promise<number>;
  /** A key to give `recover` in another page (or after a reload) to continue this connection (RTN16g). */
  createRecoveryKey(): string | null;
}
