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
/** Answers a ledger's rings hold at first; they double up to ACK_MEMORY. */
const FIRST_ANSWERS = 16;

/** The answer given to one msgSerial: serials (ACK) or an error (NACK). */
export interface AckRecord {
  msgSerial: number;
  serials?: (string | null)[];
  error?: ErrorInfo;
}

/**
 * One remembered answer, as small as it can be kept: a publish's one serial as the string itself
 * (most publishes), else the serials array, or the NACK's error.
 */
type Answer = string | (string | null)[] | ErrorInfo;

function answerOf(record: AckRecord): Answer {
  if (record.error) return record.error;
  const serials = record.serials ?? [];
  return serials.length === 1 && typeof serials[0] === 'string' ? serials[0] : serials;
}

function recordOf(msgSerial: number, answer: Answer): AckRecord {
  if (typeof answer === 'string') return { msgSerial, serials: [answer] };
  return Array.isArray(answer) ? { msgSerial, serials: answer } : { msgSerial, error: answer };
}

/**
 * The last ACK_MEMORY answers, oldest first, in two rings: msgSerials in a typed array (off the JS
 * heap) and the answers beside them. Kept as a Map of records, each publish left a record, its
 * serials array and the Map's entry to be copied by two scavenges (bench S7: ~0.14 KB a publish
 * of what a scavenge copied); here a publish leaves its serial string only. Same answers as the
 * Map: a msgSerial answered again keeps its place and takes the new answer; the oldest goes when a
 * new one comes past ACK_MEMORY.
 */
class AnswerRing {
  private serials = new Float64Array(FIRST_ANSWERS);
  private answers: (Answer | undefined)[] = new Array<Answer | undefined>(FIRST_ANSWERS);
  /** Ring position of the oldest answer. */
  private head = 0;
  private count = 0;
  /**
   * No msgSerial above this was ever answered. Not the newest's: a re-sent msgSerial too old to be
   * remembered is answered again (publish.ts) and goes in as the newest, below earlier ones.
   */
  private max = -Infinity;

  get size(): number {
    return this.count;
  }

  private slot(i: number): number {
    return (this.head + i) & (this.serials.length - 1);
  }

  /** Ring index of the answer to `msgSerial`, newest first, or -1. */
  private find(msgSerial: number): number {
    for (let i = this.count - 1; i >= 0; i--) if (this.serials[this.slot(i)] === msgSerial) return this.slot(i);
    return -1;
  }

  set(msgSerial: number, answer: Answer): void {
    // A new msgSerial is higher than every one answered (claim): no search then.
    const found = msgSerial > this.max ? -1 : this.find(msgSerial);
    if (found >= 0) {
      this.answers[found] = answer;
      return;
    }
    if (this.count === this.serials.length) {
      if (this.count < ACK_MEMORY) this.grow();
      else {
        this.answers[this.head] = undefined;
        this.head = this.slot(1);
        this.count--;
      }
    }
    const s = this.slot(this.count++);
    this.serials[s] = msgSerial;
    this.answers[s] = answer;
    if (msgSerial > this.max) this.max = msgSerial;
  }

  get(msgSerial: number): Answer | undefined {
    const found = this.find(msgSerial);
    return found >= 0 ? this.answers[found] : undefined;
  }

  private grow(): void {
    const size = this.serials.length * 2;
    const serials = new Float64Array(size);
    const answers = new Array<Answer | undefined>(size);
    for (let i = 0; i < this.count; i++) {
      serials[i] = this.serials[this.slot(i)]!;
      answers[i] = this.answers[this.slot(i)];
    }
    this.serials = serials;
    this.answers = answers;
    this.head = 0;
  }
}

export class AckLedger {
  /** The last answers by msgSerial, oldest first; null until the first answer. */
  private answers: AnswerRing | null = null;
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
    (this.answers ??= new AnswerRing()).set(record.msgSerial, answerOf(record));
  }

  /** Answers remembered (at most ACK_MEMORY). */
  get remembered(): number {
    return this.answers?.size ?? 0;
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
    const answer = this.answers?.get(msgSerial);
    return answer === undefined ? undefined : recordOf(msgSerial, answer);
  }
}
