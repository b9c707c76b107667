import type { MessageFilter } from '../filter/filter.js';
import type { ChannelEvent } from '../engine/channel-store.js';
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
  /** Attached with `delta: 'vcdiff'`: messages come as deltas against the previous one it got. */
  readonly delta: boolean;
  /** Id of the last message this subscriber got (its delta base); undefined before the first. */
  deltaFrom: string | undefined;
  /** A subscription filter (`[filter=…]name`): only messages it passes are delivered. */
  readonly filter: MessageFilter | undefined;
  /** The channel name the subscriber knows the channel by (qualified for a filter). */
  readonly name: string;
  /** Seq of the last event this subscriber has been given or has skipped. */
  cursor: number;
  /** Holds events that arrive before the attachment is live. */
  buffer(events: readonly ChannelEvent[]): void;
  send(frame: OutboundFrame): void;
  /**
   * A frame the channel hands to all its subscribers that want the whole run (the fan-out),
   * counted by the channel once for all: true when it goes out (the connection has a transport).
   * `direct`: the tick's last frames (Session.deliverShared).
   */
  deliverShared(frame: OutboundFrame, direct: boolean): boolean;
  /**
   * The channel's log started a new life (its state was lost: a Redis restart without
   * persistence): continue from `serial` of the new epoch, and tell the client continuity was lost.
   */
  continuityLost(serial: string, seq: number): void;
}
