/**
 * The node's local channels: which sessions on this node are attached where. A channel exists here
 * while it has local subscribers; the first one subscribes the node to the channel at the engine,
 * and the last one to leave unsubscribes it. Changes in who is attached are reported to the engine
 * as this node's occupancy of the channel, once per tick.
 *
 * Events arrive from the engine in log order, each with its seq. A gap (an event whose seq is not
 * the next one: pub/sub lost messages while the node's connection to Redis was down) is filled
 * from the channel log before anything later is delivered; a duplicate is dropped. So subscribers
 * see every event once and in order whatever the engine's transport did.
 */
import { AblyError, Err, Flag } from '@encke/protocol';
import {
  channelKey,
  noOccupancy,
  type ChannelEvent,
  type ChannelKey,
  type OccupancyMetrics,
} from '../engine/channel-store.js';
import type { Engine } from '../engine/engine.js';
import { formatSerial, hasEpoch, parseSerial } from '../engine/serial.js';
import type { Faults } from '../util/faults.js';
import type { Logger } from '../util/logger.js';
import type { FlushScheduler } from '../util/scheduler.js';
import { LocalChannel, type DeliveryCounters } from './local-channel.js';
import type { Subscriber } from './subscriber.js';

/** Most events one gap fill reads from the log. */
const FILL_LIMIT = 10_000;

const SUBSCRIBED: Promise<void> = Promise.resolve();

export class LocalChannels {
  private readonly map = new Map<ChannelKey, LocalChannel>();
  /** Channels whose subscribers changed this tick, with their subscribers then. */
  private occupancyChanged = new Map<ChannelKey, LocalChannel>();

  constructor(
    private readonly engine: Engine,
    private readonly scheduler: FlushScheduler,
    private readonly logger: Logger,
    private readonly nodeId: string,
    private readonly counters: DeliveryCounters,
    /** Channels this node may have attached at once (`maxChannels`); a new one past it is refused with 40114. */
    private readonly maxChannels = Infinity,
    private readonly faults?: Faults,
  ) {}

  /** An event from the engine (`EngineEvents.onChannelEvent`): delivered if this node still has the channel. */
  onEvent(key: ChannelKey, event: ChannelEvent): void {
    const ch = this.map.get(key);
    if (ch) this.accept(ch, event);
  }

  /** Takes an event in order: delivers it, drops a duplicate, or fills the gap before it. */
  private accept(ch: LocalChannel, event: ChannelEvent): void {
    if (ch.holding) {
      ch.holding.push(event);
      return;
    }
    const last = ch.lastEpoch;
    // Nearly every event has the epoch of the one before: checked without parsing the serial.
    const epoch = last !== undefined && hasEpoch(event.serial, last) ? last : parseSerial(event.serial)?.epoch;
    if (epoch !== ch.lastEpoch) {
      // The first event seen (nothing to compare with): the subscribers attached at the head. Or
      // the channel started a new life (Redis lost its state): the subscribers' positions belong
      // to the old one. They continue from the start of the new life, so that what was published
      // in it before this node heard of it (while it was reconnecting) is filled from the log.
      const renewed = ch.lastEpoch !== undefined && epoch !== undefined;
      if (renewed) {
        this.logger.warn(
          { channel: ch.name },
          'channel state was lost (new epoch); attachments continue without continuity',
        );
        const start = formatSerial(epoch, 0);
        for (const sub of ch.subscribers) sub.continuityLost(start, 0);
      }
      ch.lastEpoch = epoch;
      ch.lastSeq = renewed ? 0 : event.seq - 1;
    }
    if (event.seq <= ch.lastSeq) return;
    if (event.seq > ch.lastSeq + 1) {
      this.fill(ch, [event]);
      return;
    }
    ch.lastSeq = event.seq;
    (ch.pending ??= []).push(event);
    this.scheduler.channel(ch);
  }

  /** Reads what came after the last accepted event from the log, then releases `held` in order. */
  private fill(ch: LocalChannel, held: ChannelEvent[]): void {
    ch.holding = held;
    const epoch = ch.lastEpoch!;
    const from = ch.lastSeq;
    this.engine.channels.readAfter(ch.key, epoch, from, FILL_LIMIT).then(
      (replay) => {
        if (!replay.complete) {
          this.logger.error(
            { channel: ch.name, after: from },
            'events lost for local subscribers: the channel log no longer reaches back to them',
          );
          const first = ch.holding?.[0];
          if (first) ch.lastSeq = first.seq - 1;
        }
        this.release(ch, replay.events);
      },
      (err: unknown) => {
        this.logger.error({ err, channel: ch.name }, 'filling an event gap from the channel log failed');
        this.release(ch, []);
      },
    );
  }

  private release(ch: LocalChannel, events: readonly ChannelEvent[]): void {
    const held = ch.holding ?? [];
    ch.holding = null;
    for (const e of events) this.accept(ch, e);
    for (const e of held) this.accept(ch, e);
  }

  /** The engine may have missed events (its connection came back, `EngineEvents.onResync`): catch every channel up. */
  resync(): void {
    for (const ch of this.map.values()) if (ch.lastEpoch !== undefined && !ch.holding) this.fill(ch, []);
  }

  /** The local channel for `appId`/`name`, created if needed (it is dropped again when its last subscriber leaves). */
  open(appId: string, name: string): LocalChannel {
    const key = channelKey(appId, name);
    let ch = this.map.get(key);
    if (!ch) {
      if (this.map.size >= this.maxChannels) {
        this.faults?.limitReached('maxChannels', { appId });
        throw new AblyError(
          Err.channelLimit,
          `This server has its limit of ${this.maxChannels} channels attached; no new channel can be attached now`,
        );
      }
      ch = new LocalChannel(key, appId, name, this.counters);
      this.map.set(key, ch);
    }
    return ch;
  }

  /**
   * Adds `sub` to `ch`. Null when this node already receives the channel's events from the engine
   * (nothing to wait for: the attach goes on without a microtask hop); otherwise resolves once it does.
   */
  subscribe(ch: LocalChannel, sub: Subscriber): Promise<void> | null {
    ch.addSubscriber(sub);
    this.reportOccupancy(ch);
    if (ch.engineSubscribed === SUBSCRIBED) return null;
    if (ch.engineSubscribed) return ch.engineSubscribed;
    const pending = this.engine.channels.subscribe(ch.key);
    if (pending === undefined) {
      // Subscribed at once (the memory engine): nothing to wait for.
      ch.engineSubscribed = SUBSCRIBED;
      return null;
    }
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
    if (!ch.deleteSubscriber(sub)) return;
    this.reportOccupancy(ch);
    if (ch.subscriberCount > 0) return;
    if (this.map.get(ch.key) === ch) this.map.delete(ch.key);
    ch.engineSubscribed = null;
    this.engine.channels.unsubscribe(ch.key).catch((err: unknown) => {
      this.logger.warn({ err, channel: ch.name }, 'engine unsubscribe failed');
    });
  }

  private reportOccupancy(ch: LocalChannel): void {
    if (!this.engine.shared) return;
    if (this.occupancyChanged.size === 0) setImmediate(() => this.flushOccupancy());
    this.occupancyChanged.set(ch.key, ch);
  }

  private flushOccupancy(): void {
    const changed = this.occupancyChanged;
    this.occupancyChanged = new Map<ChannelKey, LocalChannel>();
    for (const [key, ch] of changed) {
      this.engine.channels.setOccupancy(key, this.nodeId, occupancyOf(ch)).catch((err: unknown) => {
        this.logger.warn({ err, channel: ch.name }, 'engine occupancy update failed');
      });
    }
  }

  /** This node's attachments to a channel by mode; null when it has none. */
  occupancy(appId: string, name: string): OccupancyMetrics | null {
    const ch = this.map.get(channelKey(appId, name));
    return ch ? occupancyOf(ch) : null;
  }

  /** Names of this node's channels of `appId` with local attachments, matching a prefix, after `after`. */
  names(appId: string, prefix = '', after?: string): string[] {
    const start = `${appId}:${prefix}`;
    const names: string[] = [];
    for (const ch of this.map.values()) {
      if (ch.subscriberCount > 0 && ch.key.startsWith(start) && (after === undefined || ch.name > after))
        names.push(ch.name);
    }
    return names;
  }

  /** Every channel with local attachments (the admin dashboard lists them). */
  all(): IterableIterator<LocalChannel> {
    return this.map.values();
  }

  get(appId: string, name: string): LocalChannel | undefined {
    return this.map.get(channelKey(appId, name));
  }

  get size(): number {
    return this.map.size;
  }
}

/** This node's attachments to `ch` by what their modes permit; null when there are none. */
function occupancyOf(ch: LocalChannel): OccupancyMetrics | null {
  if (ch.subscriberCount === 0) return null;
  const m = noOccupancy();
  for (const { modes } of ch.subscribers) {
    m.connections++;
    if (modes & Flag.PUBLISH) m.publishers++;
    if (modes & Flag.SUBSCRIBE) m.subscribers++;
    if (modes & Flag.PRESENCE) m.presenceConnections++;
    if (modes & Flag.PRESENCE_SUBSCRIBE) m.presenceSubscribers++;
    if (modes & Flag.OBJECT_PUBLISH) m.objectPublishers++;
    if (modes & Flag.OBJECT_SUBSCRIBE) m.objectSubscribers++;
  }
  return m;
}
