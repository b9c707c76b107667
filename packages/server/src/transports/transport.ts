/**
 * A transport adapts one way of carrying ProtocolMessages (a WebSocket, a series of comet HTTP
 * requests) to a session. It has no read method: it decodes what the client sends and pushes it
 * into the session (`session.receive`), and it writes what the session flushes.
 */
import type { AblyError, Format, PayloadError, ProtocolMessage } from '@encke/protocol';
import type { NodeContext } from '../session/context.js';
import type { OutboundFrame } from '../wire/frame.js';

export type TransportKind = 'web_socket' | 'comet';

export interface Transport {
  readonly kind: TransportKind;
  readonly format: Format;
  /** Writes frames in order. Called once per tick with everything the session has for the client. */
  write(frames: readonly OutboundFrame[]): void;
  /**
   * Ends the transport, writing `final` first when it can. The session has already let go of it
   * (or is about to), so the transport must not report itself gone afterwards.
   */
  end(final?: OutboundFrame): void;
  /** Periodic liveness work: heartbeat when idle, give up on a peer that has gone silent. */
  tick(now: number): void;
  /** Drops the transport at once, with nothing more written (immediate server stop). */
  terminate(): void;
  /** Starts routing client messages to `owner` (after CONNECTED has been queued). */
  setOwner(owner: TransportOwner): void;
  /**
   * Stops reading client messages until `resumeReading` (the session is behind): the client's
   * sends wait in TCP. Transports without a stream to hold back (comet) do nothing.
   */
  pauseReading(): void;
  resumeReading(): void;
}

/** A client message, or a publish whose payload failed validation (the session NACKs it in turn). */
export type Inbound = ProtocolMessage | PayloadError;

/** What a transport tells its session. */
export interface TransportOwner {
  /** A validated client message. */
  receive(pm: Inbound): void;
  /** The transport went away on its own (socket closed, recv timed out). */
  transportGone(transport: Transport): void;
  /** The client broke the protocol (undecodable frame): fail the connection. */
  fail(err: AblyError): void;
}

/** How often the node checks each transport; a silent one gets a ping or HEARTBEAT at that pace. */
export function heartbeatInterval(ctx: NodeContext): number {
  return Math.max(50, Math.floor(ctx.options.maxIdleInterval / 3));
}
