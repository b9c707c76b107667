/**
 * Outgoing messages that expect an ACK (MESSAGE, PRESENCE): numbered by msgSerial, kept until
 * ACKed or NACKed, re-sent with the same serials after a resume (the server drops duplicates) or
 * renumbered from the new connection's start after a failed one (message ids still deduplicate,
 * RTN19a). While there is no transport they wait in order, if `queueMessages` allows.
 */
import type { ProtocolMessage } from '@encke/protocol/types';
import type { ErrorInfo } from '../errors.js';

export interface PublishResult {
  serials: (string | null)[];
}

interface Entry {
  pm: ProtocolMessage;
  resolve(res: PublishResult | undefined): void;
  reject(err: ErrorInfo): void;
}

export class Outbox {
  msgSerial = 0;
  /** Sent on the current transport, awaiting ACK/NACK, in msgSerial order. */
  private sent: Entry[] = [];
  /** Not yet sent (no transport). */
  private queued: Entry[] = [];

  /** Adds a message; `transmit` is called now if there is a transport, else it waits. */
  add(
    pm: ProtocolMessage,
    canSend: boolean,
    transmit: (pm: ProtocolMessage) => void,
  ): Promise<PublishResult | undefined> {
    return new Promise((resolve, reject) => {
      const entry: Entry = { pm, resolve, reject };
      if (canSend) this.transmit(entry, transmit);
      else this.queued.push(entry);
    });
  }

  private transmit(entry: Entry, transmit: (pm: ProtocolMessage) => void): void {
    entry.pm.msgSerial = this.msgSerial++;
    this.sent.push(entry);
    transmit(entry.pm);
  }

  /** On a new transport: re-send what is unacknowledged (renumbered unless resumed), then the queue. */
  resend(resumed: boolean, transmit: (pm: ProtocolMessage) => void): void {
    const again = this.sent;
    this.sent = [];
    if (resumed && again.length > 0) this.msgSerial = again[0]?.pm.msgSerial ?? this.msgSerial;
    for (const entry of [...again, ...this.queued]) this.transmit(entry, transmit);
    this.queued = [];
  }

  ack(msgSerial: number, count: number, res: PublishResult[] | undefined): void {
    this.complete(msgSerial, count, (e, i) => e.resolve(res?.[i]));
  }

  nack(msgSerial: number, count: number, err: ErrorInfo): void {
    this.complete(msgSerial, count, (e) => e.reject(err));
  }

  private complete(msgSerial: number, count: number, settle: (e: Entry, index: number) => void): void {
    const end = msgSerial + count;
    const keep: Entry[] = [];
    for (const e of this.sent) {
      const s = e.pm.msgSerial ?? -1;
      if (s >= msgSerial && s < end) settle(e, s - msgSerial);
      else keep.push(e);
    }
    this.sent = keep;
  }

  /** Fails everything, sent and queued (suspended, closed, failed). */
  failAll(err: ErrorInfo): void {
    const all = [...this.sent, ...this.queued];
    this.sent = [];
    this.queued = [];
    for (const e of all) e.reject(err);
  }
}
