/**
 * An encke connection's set-up as the generator's clients follow it (WebSocket and comet alike):
 * CONNECTED, each ATTACHED, a presence member's first ACK, and the failures that end a run.
 */
import { Action, type Format } from '@encke/protocol';
import { DELTA_FORMAT } from '../documents.js';
import { Waiter } from './client.js';
import type { ServerFrame } from './server-frame.js';
import { readSetup, setup } from './setup-frames.js';

/**
 * Tracks CONNECTED, ATTACHED and a presence member's first ACK for one connection during set-up.
 * Each step's Waiter is made when someone waits for it (a subscriber never waits for an ACK, and
 * a WebSocket subscriber's CONNECTED usually arrives with the 101, before anyone waits for it).
 */
export class Handshake {
  connectionKey = '';
  /** CONNECTED was read. */
  isConnected = false;
  private awaiting = new Set<string>();
  private attachedDone = false;
  private ackedDone = false;
  private failure: Error | undefined;
  private connectedW: Waiter | undefined;
  private attachedW: Waiter | undefined;
  private ackedW: Waiter | undefined;

  /** `delta`: every ATTACHED must grant `delta: 'vcdiff'` back. */
  constructor(private readonly delta = false) {}

  get connected(): Waiter {
    return (this.connectedW ??= this.step(this.isConnected));
  }

  get attached(): Waiter {
    return (this.attachedW ??= this.step(this.attachedDone));
  }

  get acked(): Waiter {
    return (this.ackedW ??= this.step(this.ackedDone));
  }

  expect(channels: readonly string[]): void {
    this.awaiting = new Set(channels);
    if (this.awaiting.size === 0) this.markAttached();
  }

  /** The connection failed: every step waited for, now or later, fails with `err` (the first failure). */
  fail(err: Error): void {
    this.failure ??= err;
    this.connectedW?.reject(err);
    this.attachedW?.reject(err);
    this.ackedW?.reject(err);
  }

  /** Handles control messages; false when the connection is unusable. */
  handle(pm: ServerFrame): boolean {
    switch (pm.action) {
      case Action.CONNECTED:
        this.connectedWith(pm.connectionKey ?? '');
        return true;
      case Action.ATTACHED:
        if (this.delta && pm.params?.delta !== DELTA_FORMAT) {
          this.attached.reject(new Error(`encke: ATTACHED ${pm.channel ?? ''} without delta=${DELTA_FORMAT}`));
          return false;
        }
        if (pm.channel !== undefined) this.attachedTo(pm.channel);
        return true;
      case Action.ACK:
        this.ackedDone = true;
        this.ackedW?.resolve();
        return true;
      // A refused presence update is a failure of the run, like a lost connection.
      case Action.NACK:
      case Action.ERROR:
      case Action.DISCONNECTED:
      case Action.CLOSED:
        this.fail(new Error(`encke: action ${pm.action} ${JSON.stringify(pm.error ?? {})}`));
        return false;
      default:
        return true;
    }
  }

  /**
   * A frame the fast reader read (setup-frames.ts: a CONNECTED or an ATTACHED in encke's shape, not
   * for delta subscribers, whose ATTACHED params are checked); false when it is left to `handle`.
   */
  read(payload: Buffer, format: Format): boolean {
    if (this.delta) return false;
    const action = readSetup(payload, format === 'msgpack');
    if (action === Action.CONNECTED) this.connectedWith(setup.value);
    else if (action === Action.ATTACHED) this.attachedTo(setup.value);
    else return false;
    return true;
  }

  private connectedWith(key: string): void {
    this.connectionKey = key;
    this.isConnected = true;
    this.connectedW?.resolve();
  }

  private attachedTo(channel: string): void {
    if (this.awaiting.delete(channel) && this.awaiting.size === 0) this.markAttached();
  }

  private markAttached(): void {
    this.attachedDone = true;
    this.attachedW?.resolve();
  }

  /** A step's Waiter, made late: settled already if the step is done or the connection failed. */
  private step(done: boolean): Waiter {
    const w = new Waiter();
    if (this.failure) w.reject(this.failure);
    else if (done) w.resolve();
    return w;
  }
}
