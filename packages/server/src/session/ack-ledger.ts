/**
 * A connection's exactly-once bookkeeping (RTN19a2): the highest msgSerial processed, and the
 * answers to the most recent ones, so that a msgSerial re-sent after a resume gets the same ACK or
 * NACK again instead of being published twice; and the ACK frames those answers go out in.
 */
import { Action, type ErrorInfo, type ProtocolMessage } from '@encke/protocol';
import type { OutboundFrame } from '../wire/frame.js';
import { replyFrame } from './ack-frame.js';

/** How many recent ACK/NACK replies are kept to answer re-sent publishes identically. */
const ACK_MEMORY = 256;

/** The answer given to one msgSerial: serials (ACK) or an error (NACK). */
export interface AckRecord {
  msgSerial: number;
  serials?: (string | null)[];
  error?: ErrorInfo;
}

export class AckLedger {
  /** Answers by msgSerial, oldest first; null until the first answer. */
  private answers: Map<number, AckRecord> | null = null;
  /** The last ACK handed out; while it is still the last frame queued (unsent), the next consecutive ACK joins it. */
  private openAck: ProtocolMessage | null = null;

  /** `highest`: the highest msgSerial processed (from a shared record after a takeover; -1 for a new connection). */
  constructor(private highest = -1) {}

  /** The highest msgSerial processed; anything at or below it is a re-send. */
  get high(): number {
    return this.highest;
  }

  /** Whether `msgSerial` is new, and then it is the highest processed; false for a re-send. */
  claim(msgSerial: number): boolean {
    if (msgSerial <= this.highest) return false;
    this.highest = msgSerial;
    return true;
  }

  remember(record: AckRecord): void {
    const answers = (this.answers ??= new Map());
    answers.set(record.msgSerial, record);
    if (answers.size > ACK_MEMORY) answers.delete(answers.keys().next().value!);
  }

  /**
   * Remembers `record` and returns the frame of the ACK or NACK to queue for it, or null when it
   * joined the ACK handed out last, which is still `lastQueued` (the last frame queued and unsent):
   * publishes answered in one tick go out as one ACK {msgSerial, count: n, res: [n results]}
   * (RTN7a: an ACK may acknowledge a range), one encoding and one frame instead of n. An ACK has
   * exactly these four keys: its frame is written from a template (ack-frame.ts) when it goes out.
   */
  reply(record: AckRecord, lastQueued: ProtocolMessage | undefined): OutboundFrame | null {
    this.remember(record);
    if (record.error)
      return replyFrame({ action: Action.NACK, msgSerial: record.msgSerial, count: 1, error: record.error });
    const result = { serials: record.serials ?? [] };
    const open = this.openAck;
    if (open && lastQueued === open && open.msgSerial! + open.count! === record.msgSerial) {
      open.count!++;
      open.res!.push(result);
      return null;
    }
    return replyFrame((this.openAck = { action: Action.ACK, msgSerial: record.msgSerial, count: 1, res: [result] }));
  }

  /** The answer given to `msgSerial`, if still remembered. */
  answered(msgSerial: number): AckRecord | undefined {
    return this.answers?.get(msgSerial);
  }
}
