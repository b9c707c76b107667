/**
 * A connection's exactly-once bookkeeping (RTN19a2): the highest msgSerial processed, and the
 * answers to the most recent ones, so that a msgSerial re-sent after a resume gets the same ACK or
 * NACK again instead of being published twice.
 */
import type { ErrorInfo } from '@encke/protocol';

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

  /** The answer given to `msgSerial`, if still remembered. */
  answered(msgSerial: number): AckRecord | undefined {
    return this.answers?.get(msgSerial);
  }
}
