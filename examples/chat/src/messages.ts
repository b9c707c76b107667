/**
 * A room's messages as the page shows them, each with its delivery state: the sender's own go
 * `pending` (sent, no ACK yet) → `acknowledged` (the server ACKed it, or it came back to us), or
 * `failed` (NACKed, or the connection gave up) with a retry that re-sends the same message id, so a
 * message the server did store after all is not stored twice (idempotent publish).
 */

export type Delivery = 'pending' | 'acknowledged' | 'failed' | 'received';

export interface ChatMessage {
  readonly id: string;
  readonly clientId: string;
  readonly text: string;
  timestamp: number;
  delivery: Delivery;
  /** Why sending failed. */
  error?: string;
}

/** Messages kept per room in the page: older ones scroll away. */
export const MAX_MESSAGES = 500;

export type MessageChange = (message: ChatMessage, added: boolean) => void;

export class MessageLog {
  private readonly byId = new Map<string, ChatMessage>();
  private readonly order: ChatMessage[] = [];

  constructor(private readonly changed: MessageChange) {}

  /** Our own message, just sent. */
  sent(id: string, clientId: string, text: string, now: number): ChatMessage {
    return this.add({ id, clientId, text, timestamp: now, delivery: 'pending' });
  }

  acknowledged(id: string): void {
    this.update(id, (m) => {
      m.delivery = 'acknowledged';
      delete m.error;
    });
  }

  failed(id: string, reason: string): void {
    this.update(id, (m) => {
      if (m.delivery === 'acknowledged') return;
      m.delivery = 'failed';
      m.error = reason;
    });
  }

  retrying(id: string): void {
    this.update(id, (m) => {
      m.delivery = 'pending';
      delete m.error;
    });
  }

  /** A message from the channel (history or live); our own coming back confirms it. */
  received(id: string, clientId: string, text: string, timestamp: number, own: boolean): void {
    const known = this.byId.get(id);
    if (known) {
      if (known.delivery !== 'acknowledged' && known.delivery !== 'received') this.acknowledged(id);
      return;
    }
    this.add({ id, clientId, text, timestamp, delivery: own ? 'acknowledged' : 'received' });
  }

  get(id: string): ChatMessage | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.order.length;
  }

  private add(m: ChatMessage): ChatMessage {
    this.byId.set(m.id, m);
    this.order.push(m);
    if (this.order.length > MAX_MESSAGES) this.byId.delete(this.order.shift()!.id);
    this.changed(m, true);
    return m;
  }

  private update(id: string, change: (m: ChatMessage) => void): void {
    const m = this.byId.get(id);
    if (!m) return;
    change(m);
    this.changed(m, false);
  }
}
