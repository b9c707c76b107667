/**
 * What a raw protocol client has received, and waiting for it: shared by the raw WebSocket and
 * raw comet clients.
 */
import { actionName, type ProtocolMessage } from '@encke/protocol';

export class Inbox {
  /** Messages not yet consumed by `next`. */
  readonly received: ProtocolMessage[] = [];
  /** Everything received, in order, never consumed. */
  readonly log: ProtocolMessage[] = [];
  closed = false;
  private waiters: (() => void)[] = [];

  protected push(pm: ProtocolMessage): void {
    this.received.push(pm);
    this.log.push(pm);
    this.wake();
  }

  protected markClosed(): void {
    this.closed = true;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Waits for the next message with `action` (consuming it and everything before it). */
  async next(
    action: number,
    timeoutMs = 5000,
    filter: (pm: ProtocolMessage) => boolean = () => true,
  ): Promise<ProtocolMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.received.findIndex((pm) => pm.action === action && filter(pm));
      if (i >= 0) return this.received.splice(0, i + 1)[i]!;
      if (this.closed)
        throw new Error(`closed while waiting for ${actionName(action)}; got ${JSON.stringify(this.received)}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no ${actionName(action)} within ${timeoutMs} ms; got ${JSON.stringify(this.received)}`);
      await this.wait(left);
    }
  }

  /** Resolves when the server has closed the connection. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('not closed');
      await this.wait(50);
    }
  }
}
