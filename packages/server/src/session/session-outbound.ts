/**
 * A session's outbound frames: the queue its frames wait in until the end of the tick
 * (util/scheduler.ts), the fan-out's direct write, and the publisher's ACKs. Session (session.ts)
 * extends this; what it binds, ends and receives stays there.
 *
 * **An ACK is made after the fan-out, not in the read.** A publish the engine answered at once is
 * answered in the read that brought it, but making its ACK there (the ledger's answer, the frame,
 * the queue: ~10k instructions in V8's baseline tier) delayed the fan-out's first write by as much.
 * So the read only records what the ACK needs (`deferAck`: msgSerial and serials, in a bounded
 * list) and schedules the session's flush, which runs after the fan-out's writes (sessions that
 * were waiting flush last); the ACK is made there (`settleAcks`). It is made earlier whenever
 * anything could see it missing, so nothing overtakes it and every answer is in the ledger when
 * looked up:
 * - before any other frame is queued or written for this connection (`enqueue`, `deliverShared`:
 *   the publisher's own echo, a NACK, a later reply of the same read, an ATTACHED, CONNECTED);
 * - before another answer (`acknowledge`: the ledger joins consecutive ACKs in msgSerial order);
 * - before the ledger is asked for an answer (`answered`: a re-send in the same read);
 * - before the transport changes or ends and before the session is disposed (`dropQueued`, and
 *   Session's endings call `settleAcks`).
 * The bytes are those of the ACK made in the read: the same frames, joined the same way.
 */
import type { AblyError, ProtocolMessage } from '@encke/protocol';
import type { NodeContext } from '../context.js';
import type { Flushable } from '../util/scheduler.js';
import { OutboundFrame } from '../wire/frame.js';
import type { AckRecord } from './ack-ledger.js';
import type { Transport } from './port.js';
import { SessionFields } from './session-fields.js';

/** ACKs a session may owe at once; the next is made at once with those before it (many publishes in one read). */
export const MAX_DUE_ACKS = 64;

/** A publish's ACK not made yet: what the ledger needs, when the publish was read, and the ACK due before it. */
class DueAck implements AckRecord {
  readonly depth: number;

  constructor(
    readonly msgSerial: number,
    readonly serials: (string | null)[],
    readonly received: number,
    readonly before: DueAck | null,
  ) {
    this.depth = before === null ? 1 : before.depth + 1;
  }
}

export abstract class SessionOutbound extends SessionFields implements Flushable {
  flushQueued = false;
  abstract readonly ctx: NodeContext;
  abstract readonly appId: string;
  /** The transport carrying the connection now; null while disconnected. */
  protected bound: Transport | null = null;
  /** The first frame waiting for this tick's flush; null when none (most connections, most of the time). */
  private first: OutboundFrame | null = null;
  /** The newest ACK owed (each holds the one before it); null when none. While not null, the session's flush is scheduled. */
  private acksDue: DueAck | null = null;

  send(pm: ProtocolMessage): void {
    this.enqueue(new OutboundFrame(pm));
  }

  /** `alone`: no other frame can come for this connection this tick, so with nothing queued it is written now. */
  enqueue(frame: OutboundFrame, alone = false): void {
    if (this.acksDue !== null) this.settleAcks();
    if (!this.bound) return;
    this.ctx.stats.delivered(this.appId, frame);
    this.ctx.metrics.sent(frame.pm);
    if (alone && this.first === null) this.writeNow(this.bound, frame);
    else this.queue(frame);
  }

  /**
   * A channel's fan-out frame, counted by the channel: true if it goes out. `direct` (the tick's last channel,
   * FlushScheduler): with nothing queued or owed, no other frame comes this tick, so it is written now; anything
   * queued (ATTACHED, ACK) goes first and the frame waits behind it.
   */
  deliverShared(frame: OutboundFrame, direct: boolean): boolean {
    const transport = this.bound;
    if (transport === null) return false;
    if (direct && this.first === null && this.acksDue === null) this.writeNow(transport, frame);
    else {
      if (this.acksDue !== null) this.settleAcks();
      this.queue(frame);
    }
    return true;
  }

  /** Writes `frame` at once (one write this tick); a throw fails this connection only, as in its flush. */
  private writeNow(transport: Transport, frame: OutboundFrame): void {
    try {
      transport.writeOne(frame);
    } catch (err) {
      this.ctx.scheduler.fault(this, err);
    }
  }

  private queue(frame: OutboundFrame): void {
    // A delivery allocates nothing here: most connections get one frame a tick.
    if (this.first === null) this.first = frame;
    else if (this.more === null) this.more = [frame];
    else this.more.push(frame);
    this.ctx.scheduler.session(this);
  }

  flush(): void {
    if (this.acksDue !== null) {
      // Made now, they go out in this flush: the session is not scheduled again for them.
      const queued = this.flushQueued;
      this.flushQueued = true;
      try {
        this.settleAcks();
      } finally {
        this.flushQueued = queued;
      }
    }
    const first = this.first;
    if (first === null) return;
    const more = this.more;
    this.first = this.more = null;
    const transport = this.bound;
    if (!transport) return;
    if (more === null) return transport.writeOne(first);
    more.unshift(first);
    transport.write(more);
  }

  /** Drops what is queued (the transport is gone, or the session); what is owed is answered first, for the ledger. */
  protected dropQueued(): void {
    this.settleAcks();
    this.first = this.more = null;
  }

  /**
   * Owes the ACK of a publish answered with `serials`, read at `received` (performance.now()): made
   * when the session flushes, or before anything could see it missing (this file's comment).
   */
  deferAck(msgSerial: number, serials: (string | null)[], received: number): void {
    const due = (this.acksDue = new DueAck(msgSerial, serials, received, this.acksDue));
    // No transport (an answer that came after it went): the ledger remembers it now, as it did in the read.
    if (this.bound === null || due.depth >= MAX_DUE_ACKS) this.settleAcks();
    else this.ctx.scheduler.session(this);
  }

  /** Makes the ACKs owed, oldest first: remembered by the ledger and queued as if made when owed. */
  protected settleAcks(): void {
    const due = this.acksDue;
    if (due === null) return;
    this.acksDue = null;
    this.answerDue(due);
  }

  private answerDue(due: DueAck): void {
    if (due.before !== null) this.answerDue(due.before);
    this.acknowledge(due);
    this.ctx.metrics.ackLatency.observe((performance.now() - due.received) / 1000);
  }

  /** Remembers and sends the reply to msgSerial so that a re-send gets the same answer. */
  acknowledge(record: AckRecord): void {
    if (this.acksDue !== null) this.settleAcks();
    const reply = this.acks.reply(record, (this.more !== null ? this.more[this.more.length - 1]! : this.first)?.pm);
    if (reply) this.enqueue(reply);
  }

  nack(msgSerial: number, err: AblyError): void {
    this.acknowledge({ msgSerial, error: err.toErrorInfo() });
  }

  /** The answer given to `msgSerial`, if still remembered (the ACKs owed are made first). */
  answered(msgSerial: number): AckRecord | undefined {
    if (this.acksDue !== null) this.settleAcks();
    return this.acks.answered(msgSerial);
  }
}
