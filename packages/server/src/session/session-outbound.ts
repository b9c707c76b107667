/**
 * A session's outbound side (Session's base class): the frames queued for this tick's flush, the writes
 * made at once (a fan-out's delivery, a CONNECTED alone), and the bound transport mirrored on the
 * attachments (`link`) so that a fan-out's delivery reads the attachment and the transport, not the
 * session (Attachment.deliverShared; bench/README.md, "The fan-out's extra time").
 */
import type { ProtocolMessage } from '@encke/protocol';
import type { NodeContext } from '../context.js';
import type { Flushable } from '../util/scheduler.js';
import { OutboundFrame } from '../wire/frame.js';
import { Attachment } from './attachment.js';
import type { AttachmentSlot } from './attachments.js';
import type { Transport } from './port.js';
import { SessionFields } from './session-fields.js';

export abstract class SessionOutbound extends SessionFields implements Flushable {
  abstract flushQueued: boolean;
  abstract readonly ctx: NodeContext;
  abstract readonly appId: string;
  abstract readonly echo: boolean;
  abstract attached: AttachmentSlot;
  /** The transport carrying the connection now; null while disconnected. */
  protected bound: Transport | null = null;
  /** The first frame waiting for this tick's flush; null when none (most connections, most of the time). */
  protected first: OutboundFrame | null = null;

  /** Mirrors the bound transport and echo on every attachment (Attachment.link: a fan-out reads them there). */
  protected link(): void {
    const a = this.attached;
    if (a instanceof Attachment) a.link(this.bound, this.echo);
    else if (a !== null) for (const att of a.values()) att.link(this.bound, this.echo);
  }

  send(pm: ProtocolMessage): void {
    this.enqueue(new OutboundFrame(pm));
  }

  /** `alone`: no other frame can come for this connection this tick, so with nothing queued it is written now. */
  enqueue(frame: OutboundFrame, alone = false): void {
    if (!this.bound) return;
    this.ctx.stats.delivered(this.appId, frame);
    this.ctx.metrics.sent(frame.pm);
    if (alone && this.first === null) this.writeNow(this.bound, frame);
    else this.queue(frame);
  }

  /**
   * A channel's fan-out frame, counted by the channel: true if it goes out. `direct` (the tick's last channel,
   * FlushScheduler): with nothing queued, no other frame comes this tick, so it is written now; anything
   * queued (ATTACHED, ACK) goes first and the frame waits behind it.
   */
  deliverShared(frame: OutboundFrame, direct: boolean): boolean {
    const transport = this.bound;
    if (transport === null) return false;
    if (direct && this.first === null) this.writeNow(transport, frame);
    else this.queue(frame);
    return true;
  }

  /** Writes `frame` at once (one write this tick); a throw fails this connection only, as in its flush. */
  private writeNow(transport: Transport, frame: OutboundFrame): void {
    try {
      transport.writeOne(frame);
    } catch (err) {
      this.writeFailed(err);
    }
  }

  /** A write threw (writeNow, or an attachment's fan-out delivery): this connection fails, as in its flush. */
  writeFailed(err: unknown): void {
    this.ctx.scheduler.fault(this, err);
  }

  private queue(frame: OutboundFrame): void {
    // A delivery allocates nothing here: most connections get one frame a tick.
    if (this.first === null) {
      this.first = frame;
      this.bound!.queued = true; // (bound: enqueue and deliverShared check) a fan-out's frame goes behind it
    } else if (this.more === null) this.more = [frame];
    else this.more.push(frame);
    this.ctx.scheduler.session(this);
  }

  flush(): void {
    const first = this.first;
    if (first === null) return;
    const more = this.more;
    this.first = this.more = null;
    const transport = this.bound;
    if (!transport) return;
    transport.queued = false;
    if (more === null) return transport.writeOne(first);
    more.unshift(first);
    transport.write(more);
  }
}
