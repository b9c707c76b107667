/**
 * One session's attachment to one channel. Until its ATTACHED has been sent it is not live: events
 * the channel receives meanwhile are buffered and released, after the ATTACHED and any backlog, in
 * order and without repeats (ably-js drops messages that arrive before ATTACHED, RTL17).
 */
import { AblyError, Action, Err } from '@encke/protocol';
import { MODE_FOR_KIND, eventsToProtocolMessage, runsByKind } from '../channels/batch.js';
import type { LocalChannel } from '../channels/local-channel.js';
import { selectFor } from '../channels/local-channel.js';
import type { Subscriber } from '../channels/subscriber.js';
import type { ChannelEvent } from '../engine/channel-store.js';
import { OutboundFrame } from '../wire/frame.js';
import type { MessageFilter } from '../filter/filter.js';

/** Events buffered while attaching before the attach gives up (the client retries). */
export const MAX_ATTACH_BUFFER = 10_000;
/** Backlog events per ProtocolMessage. */
const BACKLOG_CHUNK = 100;

/** What an attachment needs of its connection. */
export interface AttachmentOwner {
  readonly id: string;
  /** The app whose channels it attaches to. */
  readonly appId: string;
  /** False when the connection asked not to get its own messages back. */
  readonly echo: boolean;
  /** Queues a frame for the connection's next flush. */
  enqueue(frame: OutboundFrame): void;
  /** A channel's fan-out frame, counted by the channel (Session.deliverShared). */
  deliverShared(frame: OutboundFrame, direct: boolean): boolean;
}

/**
 * An attachment's booleans, bits of the small integer that also holds its granted modes (mode flags
 * are bits 16–25: Flag in @encke/protocol), one field per attachment, not four (bench S3).
 */
const LIVE = 1 << 28;
const OVERFLOWED = 1 << 29;
const DELTA = 1 << 30;
const MODE_BITS = LIVE - 1;

/** What only some attachments have: a qualified name, a filter, a delta base, events buffered while attaching. */
class AttachmentExtras {
  /** The name the client attached by, when it is not the channel's (`[filter=…]name`). */
  name: string | undefined = undefined;
  deltaFrom: string | undefined = undefined;
  filter: MessageFilter | undefined = undefined;
  buffered: ChannelEvent[] | null = null;
}

export class Attachment implements Subscriber {
  cursor = 0;
  /** Granted modes, and LIVE, OVERFLOWED, DELTA (the accessors below). */
  private state: number;
  /** Null for most attachments (one field for four, bench S3). */
  private extras: AttachmentExtras | null = null;

  constructor(
    private readonly owner: AttachmentOwner,
    readonly channel: LocalChannel,
    name: string,
    modes: number,
  ) {
    this.state = modes & MODE_BITS;
    if (name !== channel.name) this.more.name = name;
  }

  private get more(): AttachmentExtras {
    return (this.extras ??= new AttachmentExtras());
  }

  /** The channel name the client knows the channel by (qualified for a filter). */
  get name(): string {
    return this.extras?.name ?? this.channel.name;
  }

  /** Id of the last message this subscriber got (its delta base); undefined before the first. */
  get deltaFrom(): string | undefined {
    return this.extras?.deltaFrom;
  }
  set deltaFrom(id: string | undefined) {
    if (id !== undefined || this.extras !== null) this.more.deltaFrom = id;
  }

  /** The subscription filter of a `[filter=…]name` attachment. */
  get filter(): MessageFilter | undefined {
    return this.extras?.filter;
  }
  set filter(filter: MessageFilter | undefined) {
    if (filter !== undefined || this.extras !== null) this.more.filter = filter;
  }

  /** ATTACHED (and any backlog) has been sent: events go out as they come (Subscriber.live). */
  get live(): boolean {
    return (this.state & LIVE) !== 0;
  }

  /** More events arrived while attaching than it buffers (MAX_ATTACH_BUFFER): the attach fails. */
  get overflowed(): boolean {
    return (this.state & OVERFLOWED) !== 0;
  }

  /** Takes deltas (`delta: 'vcdiff'` at attach). */
  get delta(): boolean {
    return (this.state & DELTA) !== 0;
  }

  set delta(on: boolean) {
    this.state = on ? this.state | DELTA : this.state & ~DELTA;
  }

  get connectionId(): string {
    return this.owner.id;
  }

  get echo(): boolean {
    return this.owner.echo;
  }

  /** Granted channel mode flags. */
  get modes(): number {
    return this.state & MODE_BITS;
  }

  /** Keeps only `modes` of the granted modes (a reauth's capability allows fewer). */
  narrow(modes: number): void {
    this.state &= modes | ~MODE_BITS;
  }

  buffer(events: readonly ChannelEvent[]): void {
    const buf = (this.more.buffered ??= []);
    if (buf.length + events.length > MAX_ATTACH_BUFFER) {
      this.state |= OVERFLOWED;
      return;
    }
    for (const e of events) buf.push(e);
  }

  send(frame: OutboundFrame): void {
    this.owner.enqueue(frame);
  }

  deliverShared(frame: OutboundFrame, direct: boolean): boolean {
    return this.owner.deliverShared(frame, direct);
  }

  /**
   * An unsolicited ATTACHED without RESUMED tells the SDK that continuity was lost (RTL12: it emits
   * `update` with `resumed: false`); delivery goes on from the new epoch.
   */
  continuityLost(serial: string, seq: number): void {
    this.cursor = seq;
    if (!this.live) return;
    const err = new AblyError(Err.channelNoMatchingEpoch, 'Channel continuity lost: the channel state was reset');
    this.send(
      new OutboundFrame({
        action: Action.ATTACHED,
        channel: this.name,
        flags: this.modes,
        channelSerial: serial,
        error: err.toErrorInfo(),
      }),
    );
  }

  /**
   * Sends `backlog` (replayed or rewound events, oldest first), then whatever arrived while
   * attaching and is newer, and from then on takes live events. `cursor` is the position the
   * client has already seen (its channelSerial, or the head at attach time).
   */
  goLive(cursor: number, backlog: readonly ChannelEvent[]): void {
    this.cursor = cursor;
    const extras = this.extras;
    if (backlog.length === 0 && (extras?.buffered ?? null) === null) {
      // Most attaches: nothing to replay, nothing arrived meanwhile.
      this.state |= LIVE;
      return;
    }
    const pending = extras?.buffered ?? [];
    if (extras) extras.buffered = null;
    // Presence is restored by the SYNC that follows ATTACHED, not replayed.
    this.deliver(
      backlog.filter((e) => e.kind !== 'presence'),
      true,
    );
    const lastBacklog = backlog.length > 0 ? backlog[backlog.length - 1]!.seq : cursor;
    this.cursor = Math.max(cursor, lastBacklog);
    this.deliver(pending, false);
    this.state |= LIVE;
  }

  /** Delivers events newer than the cursor that this attachment's modes and echo setting allow. */
  private deliver(events: readonly ChannelEvent[], backlog: boolean): void {
    for (const run of runsByKind(events)) {
      const mode = MODE_FOR_KIND[run[0]!.kind];
      const selected =
        (this.modes & mode) === 0
          ? []
          : backlog
            ? run.filter((e) => this.echo || e.connectionId !== this.connectionId)
            : selectFor(this, run);
      for (let i = 0; i < selected.length; i += BACKLOG_CHUNK) {
        const pm = eventsToProtocolMessage(this.name, selected.slice(i, i + BACKLOG_CHUNK));
        if (this.filter && pm.messages) {
          pm.messages = pm.messages.filter(this.filter);
          if (pm.messages.length === 0) continue;
        }
        this.send(new OutboundFrame(pm));
        // Backlog goes whole: the delta chain restarts from its last message (RTL18: a client that
        // re-attached after a decode failure gets a full message first).
        const messages = pm.messages;
        if (messages && messages.length > 0) this.deltaFrom = messages[messages.length - 1]!.id;
      }
      const last = run[run.length - 1]!.seq;
      if (last > this.cursor) this.cursor = last;
    }
  }
}
