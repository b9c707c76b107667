/**
 * The node's stats counters: per app and per minute, counted in memory (a map update per event)
 * and added to the engine's stats store every `statsFlushInterval`, so that every node's counts
 * end up in the same per-minute records. Entry names follow Ably's flat stats.
 */
import { Action, dataSize, type Message, type PresenceMessage } from '@encke/protocol';
import type { StatsStore } from '../engine/stats-store.js';
import type { OutboundFrame } from '../wire/frame.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { withRollups } from './entries.js';
import { intervalStart } from './intervals.js';

export type StatsDirection = 'inbound' | 'outbound';
export type StatsTransport = 'realtime' | 'rest';
export type StatsMessageType = 'messages' | 'presence';

type EntryNames = { count: string; data: string };

/** Entry names of message counts by direction, transport and type, made once (counting is on the delivery path). */
const MESSAGE_ENTRIES = {} as Record<StatsDirection, Record<StatsTransport, Record<StatsMessageType, EntryNames>>>;
for (const direction of ['inbound', 'outbound'] as const) {
  MESSAGE_ENTRIES[direction] = { realtime: {}, rest: {} } as Record<
    StatsTransport,
    Record<StatsMessageType, EntryNames>
  >;
  for (const transport of ['realtime', 'rest'] as const) {
    for (const type of ['messages', 'presence'] as const) {
      const prefix = `messages.${direction}.${transport}.${type}`;
      MESSAGE_ENTRIES[direction][transport][type] = { count: `${prefix}.count`, data: `${prefix}.data` };
    }
  }
}

interface MinuteCounts {
  minute: number;
  entries: Record<string, number>;
}

/** One app's counts: the current minute, and finished minutes not yet added to the store. */
interface AppCounts {
  current: MinuteCounts;
  finished: MinuteCounts[];
}

export class StatsCounters {
  private apps = new Map<string, AppCounts>();
  /**
   * Deliveries of one frame to connections of one app, not yet added to the entries: a channel
   * hands the same frame to its subscribers one after another, so counting them is an increment
   * each, added up once (`settle`, at the end of the tick) instead of a map update per subscriber.
   */
  private pendingFrame: OutboundFrame | null = null;
  private pendingApp = '';
  private pendingCount = 0;

  constructor(
    private readonly clock: Clock,
    private readonly store: StatsStore,
    private readonly logger: Logger,
  ) {}

  /** The entries of `appId`'s current minute (the previous minute is put aside when it has passed). */
  private entriesNow(appId: string): Record<string, number> {
    const minute = intervalStart('minute', this.clock.now());
    let counts = this.apps.get(appId);
    if (!counts) this.apps.set(appId, (counts = { current: { minute, entries: {} }, finished: [] }));
    else if (counts.current.minute !== minute) {
      counts.finished.push(counts.current);
      counts.current = { minute, entries: {} };
    }
    return counts.current.entries;
  }

  /** Adds `value` to entry `name` of `appId`'s current minute. */
  count(appId: string, name: string, value = 1): void {
    const entries = this.entriesNow(appId);
    entries[name] = (entries[name] ?? 0) + value;
  }

  /** Counts messages (count and data bytes) published or delivered. */
  countMessages(
    appId: string,
    direction: StatsDirection,
    transport: StatsTransport,
    type: StatsMessageType,
    items: readonly (Message | PresenceMessage)[],
  ): void {
    this.countItems(appId, direction, transport, type, items.length, totalDataSize(items));
  }

  countItems(
    appId: string,
    direction: StatsDirection,
    transport: StatsTransport,
    type: StatsMessageType,
    count: number,
    bytes: number,
  ): void {
    const names = MESSAGE_ENTRIES[direction][transport][type];
    const entries = this.entriesNow(appId);
    entries[names.count] = (entries[names.count] ?? 0) + count;
    entries[names.data] = (entries[names.data] ?? 0) + bytes;
  }

  /** Counts a MESSAGE or PRESENCE frame sent to one realtime connection of `appId` (other frames are not counted). */
  delivered(appId: string, frame: OutboundFrame): void {
    if (frame === this.pendingFrame && appId === this.pendingApp) {
      this.pendingCount++;
      return;
    }
    this.settle();
    const action = frame.pm.action;
    if (action !== Action.MESSAGE && action !== Action.PRESENCE) return;
    this.pendingFrame = frame;
    this.pendingApp = appId;
    this.pendingCount = 1;
  }

  /**
   * Counts a MESSAGE or PRESENCE frame (other frames are not counted) sent to `recipients` realtime
   * connections of `appId` at once: a channel's fan-out counts its shared frame this way, once.
   */
  deliveredTo(appId: string, frame: OutboundFrame, recipients: number): void {
    const pm = frame.pm;
    if (pm.action !== Action.MESSAGE && pm.action !== Action.PRESENCE) return;
    const items = (pm.action === Action.MESSAGE ? pm.messages : pm.presence) ?? [];
    this.countItems(
      appId,
      'outbound',
      'realtime',
      pm.action === Action.MESSAGE ? 'messages' : 'presence',
      items.length * recipients,
      totalDataSize(items) * recipients,
    );
  }

  /** Adds the deliveries counted by `delivered` to the entries (the flush scheduler calls it at the end of each tick). */
  settle(): void {
    const frame = this.pendingFrame;
    if (frame === null) return;
    this.pendingFrame = null;
    this.deliveredTo(this.pendingApp, frame, this.pendingCount);
  }

  /** Adds the counts so far (of one app, or all) to the store. Never rejects: failures are logged and the counts dropped. */
  async flush(appId?: string): Promise<void> {
    this.settle();
    const selected =
      appId === undefined ? [...this.apps] : this.apps.has(appId) ? [[appId, this.apps.get(appId)!] as const] : [];
    if (appId === undefined) this.apps = new Map();
    else this.apps.delete(appId);
    const writes: Promise<void>[] = [];
    // Each write's failure is logged where it happens (a rejection's reason is unknown; allSettled types it `any`).
    const failed = (err: unknown): void => this.logger.warn({ err }, 'stats flush failed');
    for (const [id, counts] of selected) {
      for (const m of [...counts.finished, counts.current])
        writes.push(this.store.add(id, m.minute, withRollups(m.entries)).then(undefined, failed));
    }
    await Promise.all(writes);
  }
}

function totalDataSize(items: readonly (Message | PresenceMessage)[]): number {
  let bytes = 0;
  // An index loop: this runs once per publish and fan-out, mostly in V8's baseline tier, where each iterator step allocates.
  for (let i = 0; i < items.length; i++) bytes += dataSize(items[i]!.data);
  return bytes;
}
