/**
 * The publisher's pacing: a credit of deliveries that grows with the rate and is spent on messages
 * (one message on the shared channel is worth as many deliveries as it has subscribers). A timer
 * every millisecond; credit is capped so that a stalled generator does not burst afterwards.
 */
import type { Pub } from './clients/client.js';
import { Histogram } from './histogram.js';
import { makePayload, paddingFor } from './payload.js';

const TICK_MS = 1;
const MAX_CREDIT_MS = 50;

export interface Target {
  channel: string;
  deliveries: number;
}

/** The channels a load publishes to, in turn: one shared message, then `ownPerShared` own ones. */
export class Mix {
  private own = 0;
  private inRound = 0;

  constructor(
    private readonly sharedSubscribers: number,
    private readonly ownChannels: number,
    private readonly ownPerShared: number,
  ) {}

  next(): Target {
    if (this.ownPerShared === 0 || this.ownChannels === 0 || this.inRound === 0) {
      this.inRound = this.ownPerShared;
      if (this.sharedSubscribers > 0) return { channel: 'shared', deliveries: this.sharedSubscribers };
    }
    this.inRound--;
    const i = this.own;
    this.own = (this.own + 1) % this.ownChannels;
    return { channel: ownChannel(i), deliveries: 1 };
  }
}

export function ownChannel(i: number): string {
  return `own-${i}`;
}

export class Load {
  /** Deliveries promised by everything published so far. */
  offered = 0;
  /** The most deliveries one message has been worth. */
  largestMessage = 0;
  /** How late each timer tick fired (µs past TICK_MS): the generator's own event-loop stalls. */
  readonly stalls = new Histogram();
  private rate = 0;
  private credit = 0;
  private last = performance.now();
  private next: Target;
  private readonly padding: string;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pub: Pub,
    private readonly mix: Mix,
    private readonly payloadBytes: number,
  ) {
    this.padding = paddingFor(payloadBytes);
    this.next = mix.next();
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** Deliveries per second from now on (0 pauses). */
  setRate(deliveriesPerSecond: number): void {
    this.rate = deliveriesPerSecond;
    this.credit = 0;
    this.last = performance.now();
  }

  get publisherBacklog(): number {
    return this.pub.backlog;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = performance.now();
    const dt = now - this.last;
    this.last = now;
    if (this.rate === 0) return;
    this.stalls.record((dt - TICK_MS) * 1000);
    this.credit = Math.min(
      this.credit + (this.rate * dt) / 1000,
      (this.rate * MAX_CREDIT_MS) / 1000 + this.next.deliveries,
    );
    while (this.credit >= this.next.deliveries) {
      this.credit -= this.next.deliveries;
      this.offered += this.next.deliveries;
      if (this.next.deliveries > this.largestMessage) this.largestMessage = this.next.deliveries;
      this.pub.publish(this.next.channel, makePayload(this.payloadBytes, this.padding));
      this.next = this.mix.next();
    }
  }
}
