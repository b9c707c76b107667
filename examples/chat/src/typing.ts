/**
 * Who is typing, carried in presence data (`{ typing: true | false }`), so that someone who joins
 * sees who is typing at once, and a typer who vanishes (tab gone, network lost) leaves with their
 * presence member.
 *
 * Sender: the first keystroke says "typing" at once; while keys keep coming it says it again at
 * most once per `THROTTLE` (so the receivers' expiry never runs out on a steady typer), and after
 * `IDLE` without a keystroke, or when the message is sent, it says "stopped".
 * Receiver: a "typing" lasts `EXPIRY` unless renewed; "stopped", a message from the typer, or their
 * leaving ends it at once.
 */

export const THROTTLE = 1000;
export const IDLE = 1500;
/** Long enough to outlast the gap between a steady typer's signals (THROTTLE plus latency), short enough to stay under 3 s. */
export const EXPIRY = 2500;

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): number;
  clearTimeout(id: number): void;
}

export const browserTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => window.setTimeout(fn, ms),
  clearTimeout: (id) => window.clearTimeout(id),
};

export class TypingSender {
  private typing = false;
  private lastSent = 0;
  private idle: number | undefined;

  constructor(
    private readonly send: (typing: boolean) => void,
    private readonly timers: Timers = browserTimers,
  ) {}

  /** A keystroke that changed the draft. */
  keystroke(draftEmpty: boolean): void {
    if (draftEmpty) return this.stop();
    const now = this.timers.now();
    if (!this.typing || now - this.lastSent >= THROTTLE) {
      this.typing = true;
      this.lastSent = now;
      this.send(true);
    }
    if (this.idle !== undefined) this.timers.clearTimeout(this.idle);
    this.idle = this.timers.setTimeout(() => this.stop(), IDLE);
  }

  /** Sent, cleared, or idle: say so once. */
  stop(): void {
    if (this.idle !== undefined) this.timers.clearTimeout(this.idle);
    this.idle = undefined;
    if (!this.typing) return;
    this.typing = false;
    this.send(false);
  }
}

export class TypingBoard {
  private readonly expiries = new Map<string, number>();

  constructor(
    private readonly changed: (typers: string[]) => void,
    private readonly timers: Timers = browserTimers,
  ) {}

  /** `clientId` said it is typing (true) or stopped (false). */
  signal(clientId: string, typing: boolean): void {
    if (!typing) return this.clear(clientId);
    const had = this.expiries.has(clientId);
    const old = this.expiries.get(clientId);
    if (old !== undefined) this.timers.clearTimeout(old);
    this.expiries.set(
      clientId,
      this.timers.setTimeout(() => this.clear(clientId), EXPIRY),
    );
    if (!had) this.changed(this.typers());
  }

  /** Stopped typing: sent a message, said so, left or expired. */
  clear(clientId: string): void {
    const timer = this.expiries.get(clientId);
    if (timer === undefined) return;
    this.timers.clearTimeout(timer);
    this.expiries.delete(clientId);
    this.changed(this.typers());
  }

  reset(): void {
    for (const t of this.expiries.values()) this.timers.clearTimeout(t);
    this.expiries.clear();
    this.changed([]);
  }

  typers(): string[] {
    return [...this.expiries.keys()];
  }
}
