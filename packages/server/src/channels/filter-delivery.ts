/**
 * Delivering one run of channel messages to subscription-filtered attachments (`[filter=…]name`,
 * Ably docs pub-sub/advanced#subscription-filters). Subscribers are grouped by the qualified name
 * they attached with, which names one filter: each filter is evaluated once per message of the
 * run, and the subscribers of one name share one frame (carrying that name, as the SDK expects).
 * Only subscribers that see a subset of the run (echo off) get a frame of their own, from the same
 * evaluations.
 */
import type { Message } from '@encke/protocol';
import type { ChannelEvent } from '../engine/channel-store.js';
import type { MessageFilter } from '../filter/filter.js';
import { OutboundFrame } from '../wire/frame.js';
import { eventsToProtocolMessage } from './batch.js';
import type { Subscriber } from './subscriber.js';

class FilteredRun {
  private readonly passes = new Map<Message, boolean>();
  private shared: OutboundFrame | null | undefined;

  constructor(
    private readonly name: string,
    private readonly run: readonly ChannelEvent[],
    private readonly filter: MessageFilter,
  ) {}

  private frame(events: readonly ChannelEvent[]): OutboundFrame | null {
    const messages: Message[] = [];
    for (const e of events) {
      for (const m of e.messages ?? []) {
        let pass = this.passes.get(m);
        if (pass === undefined) this.passes.set(m, (pass = this.filter(m)));
        if (pass) messages.push(m);
      }
    }
    if (messages.length === 0) return null;
    const pm = eventsToProtocolMessage(this.name, events);
    pm.messages = messages;
    return new OutboundFrame(pm);
  }

  deliver(sub: Subscriber, subset: readonly ChannelEvent[] | null): void {
    const frame =
      subset === null
        ? this.shared === undefined
          ? (this.shared = this.frame(this.run))
          : this.shared
        : this.frame(subset);
    if (frame) sub.send(frame);
  }
}

export class RunFilters {
  private readonly byName = new Map<string, FilteredRun>();

  constructor(private readonly run: readonly ChannelEvent[]) {}

  deliver(sub: Subscriber, filter: MessageFilter, subset: readonly ChannelEvent[] | null): void {
    let f = this.byName.get(sub.name);
    if (!f) this.byName.set(sub.name, (f = new FilteredRun(sub.name, this.run, filter)));
    f.deliver(sub, subset);
  }
}
