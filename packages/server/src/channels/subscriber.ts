import type { ChannelEvent } from '../engine/engine.js';
import type { OutboundFrame } from '../wire/frame.js';

/** What a local channel needs of an attachment to deliver to it. */
export interface Subscriber {
  readonly connectionId: string;
  /** False when the connection asked not to get its own messages back (`echo=false`). */
  readonly echo: boolean;
  /** Granted channel mode flags (SUBSCRIBE, PRESENCE_SUBSCRIBE, …). */
  readonly modes: number;
  /** False until ATTACHED (and any backlog) has been sent: events are buffered meanwhile. */
  readonly live: boolean;
  /** Seq of the last event this subscriber has been given or has skipped. */
  cursor: number;
  /** Holds events that arrive before the attachment is live. */
  buffer(events: readonly ChannelEvent[]): void;
  send(frame: OutboundFrame): void;
}
