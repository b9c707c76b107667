/**
 * The port a transport plugs into, declared by the session side (as centrifuge's Transport
 * interface belongs to the node, not to each transport). A transport adapts one way of carrying
 * ProtocolMessages (a WebSocket, a series of comet HTTP requests, …) to a session:
 *
 * - it decodes what the client sends and pushes it into its owner (`TransportOwner.receive`); it
 *   has no read method;
 * - it writes what the session flushes (`Transport.write`), once per tick;
 * - the session tells it who owns it and the connection key each CONNECTED hands out
 *   (`Transport.connected`), so a transport that is found by key (comet) never scans frames for it.
 *
 * `transports/*` import this file; nothing in `session/` imports a transport.
 */
import type { AblyError, Format, PayloadError, ProtocolMessage } from '@encke/protocol';
import type { AuthContext } from '../auth/authenticate.js';
import type { OutboundFrame } from '../wire/frame.js';

export type TransportKind = 'web_socket' | 'comet' | 'sse' | 'badge';

/** A client message, or a publish whose payload failed validation (the session NACKs it in turn). */
export type Inbound = ProtocolMessage | PayloadError;

/** What a session tells its transport with each CONNECTED. */
export interface ConnectionIssued {
  readonly connectionId: string;
  readonly appId: string;
  /** The key this CONNECTED hands out (a new one each time: connect, resume, in-band reauth). */
  readonly connectionKey: string;
  /**
   * What the connection is authenticated as from now on (its credential's key, clientId and
   * capability). A transport whose requests each carry credentials (comet) accepts only requests
   * that grant exactly this, so that a connection key plus a weaker credential is no escalation.
   */
  readonly auth: AuthContext;
}

/** What a transport tells its session. */
export interface TransportOwner {
  /** A validated client message. */
  receive(pm: Inbound): void;
  /** The transport went away on its own (socket closed, recv timed out). */
  transportGone(transport: Transport): void;
  /** The client broke the protocol (undecodable frame): fail the connection. */
  fail(err: AblyError): void;
}

/** What a session needs of a transport. */
export interface Transport {
  readonly kind: TransportKind;
  readonly format: Format;
  /**
   * The session queued a CONNECTED handing out `issued.connectionKey`: from now on client
   * messages go to `owner` (messages that arrived before are handed over now, in order).
   */
  connected(owner: TransportOwner, issued: ConnectionIssued): void;
  /**
   * True while no frame but the session's CONNECTED can be written to this transport in this tick
   * (a WebSocket opened within its upgrade, before anything was read from the client): the
   * CONNECTED is then written at once instead of at the end of the tick, with one write per
   * connection per tick kept. Absent or false: it waits for the tick's flush like any frame.
   */
  readonly connectsAlone?: boolean;
  /**
   * Writes frames in order. Called once per tick with everything the session has for the client.
   * `frames` is valid during the call only (a one-frame flush reuses one array): copy what is kept.
   */
  write(frames: readonly OutboundFrame[]): void;
  /**
   * `write` of one frame: a tick's only frame, or a fan-out's delivery written as the channel hands
   * it out (Session.deliverShared), the path every subscriber of a message takes.
   */
  writeOne(frame: OutboundFrame): void;
  /**
   * Ends the transport, writing `final` first when it can. The session has already let go of it
   * (or is about to), so the transport must not report itself gone afterwards.
   */
  end(final?: OutboundFrame): void;
  /** Periodic liveness work (every `heartbeatInterval`): heartbeat when idle, give up on a silent peer. */
  tick(now: number): void;
  /** Drops the transport at once, with nothing more written (immediate server stop). */
  terminate(): void;
  /**
   * Stops reading client messages until `resumeReading` (the session is behind): the client's
   * sends wait in TCP. Transports without a stream to hold back (comet) do nothing.
   */
  pauseReading(): void;
  resumeReading(): void;
}
