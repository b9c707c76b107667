import type { ErrorInfo } from '../errors.js';

export type ConnectionState =
  'initialized' | 'connecting' | 'connected' | 'disconnected' | 'suspended' | 'closing' | 'closed' | 'failed';
/** Every state, plus `update`: a CONNECTED while connected (re-auth, a non-fatal error) (RTN24). */
export type ConnectionEvent = ConnectionState | 'update';

export interface ConnectionStateChange {
  previous: ConnectionState;
  current: ConnectionState;
  event: ConnectionEvent;
  reason?: ErrorInfo;
  /** Milliseconds until the next attempt, in disconnected and suspended. */
  retryIn?: number;
}
