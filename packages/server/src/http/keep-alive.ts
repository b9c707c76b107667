/**
 * node:http's keep-alive timeout for the sockets of answered parked responses (http/parked.ts),
 * kept by one shared timer per timeout instead of a timer per socket. A long-poll fan-out answers
 * every poller at once, and `socket.setTimeout` after each answer (then again to clear it when the
 * next request comes) allocated a Timeout, a bound function and a listener per answer and read
 * libuv's clock: about a tenth of the answer's time. Here an answer costs a Set insertion.
 *
 * A socket is let go between one and two timeouts after it was answered (two generations, as
 * http/parked.ts's ParkingLot): never before the Keep-Alive timeout its answer announced, so a
 * client reusing it within that time always finds it open.
 */
import { Generations } from '../util/generations.js';

/** An answered response waiting for its client's next request. */
export interface KeptAlive {
  /** Idle past the timeout: close the socket (unless the client came back meanwhile). */
  expire(): void;
}

const expire = (item: KeptAlive): void => item.expire();

class KeepAliveSweep {
  private readonly items = new Generations<KeptAlive>();
  private timer: NodeJS.Timeout | undefined = undefined;
  private readonly fireBound = (): void => this.fire();

  constructor(private readonly timeoutMs: number) {}

  add(item: KeptAlive): void {
    this.items.add(item);
    this.arm();
  }

  forget(item: KeptAlive): void {
    this.items.delete(item);
  }

  private arm(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(this.fireBound, this.timeoutMs);
    // Real time, as node:http's own socket timeouts; never what keeps a process alive.
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    if (this.items.rotate(expire)) this.arm();
  }
}

/** One sweep per keep-alive timeout in use (one per server, in practice). */
const SWEEPS = new Map<number, KeepAliveSweep>();

/** `item` was answered: it expires after one to two `timeoutMs` unless forgotten first. */
export function keepAlive(item: KeptAlive, timeoutMs: number): void {
  let sweep = SWEEPS.get(timeoutMs);
  if (!sweep) SWEEPS.set(timeoutMs, (sweep = new KeepAliveSweep(timeoutMs)));
  sweep.add(item);
}

/** `item`'s client came back (or its socket closed): it no longer expires. */
export function keptAliveDone(item: KeptAlive, timeoutMs: number): void {
  SWEEPS.get(timeoutMs)?.forget(item);
}
