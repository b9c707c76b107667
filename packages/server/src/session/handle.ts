/**
 * The session as the rest of the server sees it: the registry, the connect path, upgrades, REST
 * and the comet routes hold a `SessionHandle`, never the class (session.ts), so that nothing the
 * session imports leads back to it. Operation modules also need the node's services: they take a
 * `SessionWithContext` (with-context.ts). Both are implemented by `Session` alone.
 */
import type { AblyError, ErrorInfo, PresenceMessage, ProtocolMessage } from '@encke/protocol';
import type { AuthContext } from '../auth/authenticate.js';
import type { OutboundFrame } from '../wire/frame.js';
import type { AckLedger, AckRecord } from './ack-ledger.js';
import type { Attachments } from './attachments.js';
import type { Transport, TransportOwner } from './port.js';

export type SessionState = 'connected' | 'disconnected' | 'closed';

export type DisposeReason = 'closed' | 'failed' | 'expired' | 'shutdown' | 'moved';

export interface SessionParams {
  auth: AuthContext;
  clientId: string | undefined;
  echo: boolean;
  /** ms this connection's presence members stay after its transport drops abruptly. */
  remainPresentFor: number;
}

/** One connection's state machine (session.ts documents each member). */
export interface SessionHandle extends TransportOwner {
  readonly id: string;
  readonly appId: string;
  /** What this connection has published: exactly-once answers to re-sent msgSerials. */
  readonly acks: AckLedger;
  readonly attachments: Attachments;
  readonly state: SessionState;
  readonly closed: boolean;
  /** The transport carrying the connection now; null while disconnected. */
  readonly transport: Transport | null;
  readonly auth: AuthContext;
  readonly app: AuthContext['app'];
  readonly clientId: string | undefined;
  readonly echo: boolean;
  readonly remainPresentFor: number;
  readonly msgSerialHigh: number;
  readonly connectionSecret: string;
  presenceChannels(): string[];
  ownsKey(key: string): boolean;
  setAuth(auth: AuthContext, clientId: string | undefined): void;
  bind(transport: Transport, params: SessionParams, error?: ErrorInfo): void;
  adopt(transport: Transport, params: SessionParams): void;
  upgrade(transport: Transport, params: SessionParams): void;
  sendConnected(error?: ErrorInfo, to?: Transport | null, owner?: TransportOwner): void;
  dropTransport(): void;
  /** The heartbeat visit (node.ts): its transport's and its upgrade candidates' pings and idle checks. */
  tick(now: number): void;
  trackMembers(channel: string, changes: readonly PresenceMessage[]): void;
  leavePresence(channel: string): Promise<void> | undefined;
  send(pm: ProtocolMessage): void;
  enqueue(frame: OutboundFrame): void;
  flush(): void;
  acknowledge(record: AckRecord): void;
  /** Owes a publish's ACK, made when the session flushes or before anything could overtake it (session-outbound.ts). */
  deferAck(msgSerial: number, serials: (string | null)[], received: number): void;
  /** The answer given to a msgSerial, if still remembered (ACKs owed are made first). */
  answered(msgSerial: number): AckRecord | undefined;
  nack(msgSerial: number, err: AblyError): void;
  inboundIdle(): void;
  close(): void;
  relinquish(): void;
  disconnect(err: AblyError): void;
  dispose(reason: DisposeReason): void;
}
