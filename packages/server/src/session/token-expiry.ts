/**
 * The timer of a connection's token expiry (RTN15h): at the expiry the session sends DISCONNECTED
 * 40142 and keeps its state, so the SDK gets a new token and resumes. Made only for connections
 * whose credential expires (a key never does).
 */
import type { Clock, TimerHandle } from '../util/clock.js';

/** Longest delay a timer takes (2^31 - 1 ms); a token expiring later is re-checked then. */
const MAX_TIMER_DELAY = 2_147_483_647;

export class TokenExpiry {
  private timer: TimerHandle | undefined = undefined;

  constructor(
    private readonly clock: Clock,
    private readonly expired: (expires: number) => void,
  ) {}

  /** Calls `expired(expires)` at `expires` (ms since the epoch) unless re-armed or cancelled first. */
  arm(expires: number): void {
    this.cancel();
    const delay = Math.min(Math.max(0, expires - this.clock.now()), MAX_TIMER_DELAY);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.clock.now() < expires) this.arm(expires);
      else this.expired(expires);
    }, delay);
  }

  cancel(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
