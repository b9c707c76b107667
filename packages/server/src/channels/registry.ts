/**
 * The node's local channels: which sessions on this node are attached where. A channel exists here
 * while it has local subscribers; the first one subscribes the node to the channel at the engine,
 * and the last one to leave unsubscribes it.
 */
import { channelKey, type ChannelEvent, type ChannelKey, type Engine } from '../engine/engine.js';
import type { Logger } from '../util/logger.js';
import type { FlushScheduler } from '../util/scheduler.js';
import { LocalChannel } from './local-channel.js';
import type { Subscriber } from './subscriber.js';

const SUBSCRIBED: Promise<void> = Promise.resolve();

export class LocalChannels {
  private readonly map = new Map<ChannelKey, LocalChannel>();

  constructor(
    private readonly engine: Engine,
    private readonly scheduler: FlushScheduler,
    private readonly logger: Logger,
  ) {
    engine.setListener((key, event) => this.onEvent(key, event));
  }

  private onEvent(key: ChannelKey, event: ChannelEvent): void {
    const ch = this.map.get(key);
    if (!ch) return;
    ch.pending.push(event);
    this.scheduler.channel(ch);
  }

  /** The local channel for `appId`/`name`, created if needed (it is dropped again when its last subscriber leaves). */
  open(appId: string, name: string): LocalChannel {
    const key = channelKey(appId, name);
    let ch = this.map.get(key);
    if (!ch) {
      ch = new LocalChannel(key, appId, name);
      this.map.set(key, ch);
    }
    return ch;
  }

  /** Adds `sub` to `ch`; resolves once this node receives the channel's events from the engine. */
  subscribe(ch: LocalChannel, sub: Subscriber): Promise<void> {
    ch.subscribers.add(sub);
    if (ch.engineSubscribed) return ch.engineSubscribed;
    const pending = this.engine.channels.subscribe(ch.key);
    ch.engineSubscribed = pending;
    // Once done, every channel shares one settled promise instead of keeping its own (48 bytes each).
    pending.then(
      () => {
        if (ch.engineSubscribed === pending) ch.engineSubscribed = SUBSCRIBED;
      },
      () => undefined,
    );
    return pending;
  }

  remove(ch: LocalChannel, sub: Subscriber): void {
    if (!ch.subscribers.delete(sub) || ch.subscribers.size > 0) return;
    if (this.map.get(ch.key) === ch) this.map.delete(ch.key);
    ch.engineSubscribed = null;
    this.engine.channels.unsubscribe(ch.key).catch((err: unknown) => {
      this.logger.warn({ err, channel: ch.name }, 'engine unsubscribe failed');
    });
  }

  get(appId: string, name: string): LocalChannel | undefined {
    return this.map.get(channelKey(appId, name));
  }

  get size(): number {
    return this.map.size;
  }
}
