/**
 * Delivering one run of channel messages to the subscribers that attached with `delta: 'vcdiff'`
 * (see delta/delta-run.ts for the wire form). Deltas are encoded once per channel message in one
 * DeltaRun; subscribers whose base is the message before the run share one frame, subscribers
 * without a base share another (first message whole), and only subscribers that see a subset of
 * the run (echo off) get a frame of their own, assembled from the same encodings.
 */
import type { Message } from '@encke/protocol';
import { DeltaRun, type ChainEnd } from '../delta/delta-run.js';
import type { ChannelEvent } from '../engine/channel-store.js';
import { OutboundFrame } from '../wire/frame.js';
import { eventsToProtocolMessage } from './batch.js';
import type { Subscriber } from './subscriber.js';

export const NO_CHAIN: ChainEnd = { id: undefined, payload: undefined };

export class RunDeltas {
  private readonly deltas: DeltaRun;
  /** Index of each event's first message in the run's messages. */
  private readonly offsets: number[] = [];
  private continuousFrame: OutboundFrame | undefined;
  private freshFrame: OutboundFrame | undefined;

  constructor(
    private readonly channel: string,
    private readonly run: readonly ChannelEvent[],
    private readonly start: ChainEnd,
  ) {
    const messages: Message[] = [];
    for (const e of run) {
      this.offsets.push(messages.length);
      if (e.messages) for (const m of e.messages) messages.push(m);
    }
    this.deltas = new DeltaRun(messages, start);
  }

  /** Where the channel's chain stands after this run. */
  end(): ChainEnd {
    return this.deltas.end();
  }

  /** Deltas encoded for this run (each once). */
  get encoded(): number {
    return this.deltas.encoded;
  }

  private frame(events: readonly ChannelEvent[], messages: Message[]): OutboundFrame {
    const pm = eventsToProtocolMessage(this.channel, events);
    pm.messages = messages;
    return new OutboundFrame(pm);
  }

  /** Sends `sub` the whole run, or `subset` of its events, as deltas where its chain allows. */
  deliver(sub: Subscriber, subset: readonly ChannelEvent[] | null): void {
    const continuous = sub.deltaFrom !== undefined && sub.deltaFrom === this.start.id;
    let messages: Message[];
    if (subset === null) {
      const frame = continuous
        ? (this.continuousFrame ??= this.frame(this.run, this.deltas.all(true)))
        : (this.freshFrame ??= this.frame(this.run, this.deltas.all(false)));
      messages = frame.pm.messages ?? [];
      sub.send(frame);
    } else {
      const indexes: number[] = [];
      for (const e of subset) {
        const at = this.offsets[this.run.indexOf(e)]!;
        for (let i = 0; i < (e.messages?.length ?? 0); i++) indexes.push(at + i);
      }
      messages = this.deltas.select(indexes, continuous);
      if (messages.length > 0) sub.send(this.frame(subset, messages));
    }
    if (messages.length > 0) sub.deltaFrom = messages[messages.length - 1]!.id;
  }
}
