/**
 * The Redis engine's channel store. Writes are Lua scripts (serial + append + trim + PUBLISH in one
 * atomic step); reads take the log, head and members as of one instant; presence is RedisPresence's
 * compare-and-set, occupancy and listing RedisDirectory's. The node hears a channel's events once it
 * subscribed to the channel's pub/sub topic (the engine routes what arrives on it).
 */
import { AblyError, Err, type PresenceMessage } from '@encke/protocol';
import type { Redis } from 'ioredis';
import { randomAlnum } from '../../util/ids.js';
import {
  splitChannelKey,
  type AttachQuery,
  type AttachState,
  type ChannelEvent,
  type ChannelEventInput,
  type ChannelHead,
  type ChannelKey,
  type ChannelList,
  type ChannelListQuery,
  type ChannelStore,
  type AmendInput,
  type AmendOutcome,
  type EventKind,
  type MessageChain,
  type StoredMessage,
  type HistoryPage,
  type HistoryQuery,
  type OccupancyMetrics,
  type PresenceOptions,
  type PublishOptions,
  type PublishOutcome,
  type ReplayResult,
} from '../channel-store.js';
import { historyPage } from '../history.js';
import { historyView, lastPublished } from '../message-chain.js';
import { formatSerial } from '../serial.js';
import { decodeEntry, decodeMember, encodeEventBody } from './codec.js';
import { PUBLISH, READ } from './lua.js';
import type { RedisDirectory } from './redis-directory.js';
import { checkNotMoved, eventFrom, text, type RedisLayout } from './redis-layout.js';
import type { RedisChains } from './redis-chains.js';
import type { RedisPresence } from './redis-presence.js';
import { LuaScript } from './script.js';

const scripts = {
  publish: new LuaScript(PUBLISH),
  read: new LuaScript(READ),
};

interface ReadResult {
  epoch: string;
  seq: number;
  oldest: number;
  status: string;
  members: Buffer[];
  entries: Buffer[];
}

/** The engine's pub/sub subscriptions (kept by the engine, which subscribes again after a reconnect). */
export interface Topics {
  subscribe(topic: string): Promise<void>;
  unsubscribe(topic: string): Promise<void>;
}

export class RedisChannelStore implements ChannelStore {
  constructor(
    private readonly cmd: Redis,
    private readonly layout: RedisLayout,
    private readonly directory: RedisDirectory,
    private readonly presenceSets: RedisPresence,
    private readonly chains: RedisChains,
    private readonly topics: Topics,
    /** The Redis key of a connection's record (a write records the publishing connection's msgSerial there). */
    private readonly connectionKey: (connectionId: string) => string,
    private readonly nodeId: string,
  ) {}

  subscribe(key: ChannelKey): Promise<void> {
    return this.topics.subscribe(this.layout.topic(key));
  }

  unsubscribe(key: ChannelKey): Promise<void> {
    return this.topics.unsubscribe(this.layout.topic(key));
  }

  // ---- writes -------------------------------------------------------------------------------------

  async publish(key: ChannelKey, input: ChannelEventInput, options?: PublishOptions): Promise<PublishOutcome> {
    const window = options?.idempotencyWindow ?? 0;
    const all = input.messages ?? [];
    const known: (string | undefined)[] = new Array<string | undefined>(all.length);
    // At most one retry per message: each pass either appends or finds more duplicates.
    for (let attempt = 0; attempt <= all.length; attempt++) {
      const fresh = all.map((m, i) => ({ m, i })).filter(({ i }) => known[i] === undefined);
      if (all.length > 0 && fresh.length === 0) return { event: null, serials: known as string[] };
      const withIds = window > 0 ? fresh.filter(({ m }) => m.id !== undefined) : [];
      const [meta, log] = this.layout.channel(key);
      const { appId, name } = splitChannelKey(key);
      const idKeys = withIds.map(({ m }) => `${this.layout.prefix}{${key}}:i:${m.id!}`);
      const indexes = withIds.map(({ m }) => fresh.findIndex((f) => f.m === m));
      const eventInput: ChannelEventInput = input.messages ? { ...input, messages: fresh.map(({ m }) => m) } : input;
      const retention = options?.retention;
      const reply = (await scripts.publish.run(
        this.cmd,
        [meta, log, this.directory.activeKey(appId), ...idKeys],
        [
          ...this.layout.limits(),
          this.layout.topic(key),
          randomAlnum(8),
          encodeEventBody(eventInput),
          window,
          name,
          retention ? retention.maxCount : '',
          retention ? retention.maxAge : '',
          options?.connection ? this.connectionKey(options.connection.id) : '',
          options?.connection?.msgSerial ?? 0,
          this.nodeId,
          ...indexes,
        ],
      )) as Buffer[];
      checkNotMoved(text(reply[0]));
      if (text(reply[0]) === 'dup') {
        withIds.forEach(({ i }, j) => {
          const serial = text(reply[1 + j]);
          if (serial !== '') known[i] = serial;
        });
        continue;
      }
      const event = eventFrom(eventInput, reply);
      const messages = event.messages ?? [];
      let next = 0;
      const serials = all.map((_, i) => known[i] ?? messages[next++]!.serial!);
      return { event, serials };
    }
    throw new AblyError(Err.internalChannel, 'Publish could not settle duplicates');
  }

  // ---- reads --------------------------------------------------------------------------------------

  private async read(
    key: ChannelKey,
    mode: 'none' | 'from' | 'all',
    from?: { epoch: string; seq: number },
    limit = 0,
    withMembers = false,
  ): Promise<ReadResult> {
    const reply = (await scripts.read.run(this.cmd, this.layout.channel(key), [
      ...this.layout.limits(),
      randomAlnum(8),
      mode,
      from?.epoch ?? '',
      from?.seq ?? 0,
      limit,
      withMembers ? '1' : '0',
    ])) as [Buffer, Buffer, Buffer, Buffer, Buffer[], Buffer[]];
    return {
      epoch: text(reply[0]),
      seq: Number(text(reply[1])),
      oldest: Number(text(reply[2])),
      status: text(reply[3]),
      members: reply[4],
      entries: reply[5],
    };
  }

  private static head(r: ReadResult): ChannelHead {
    return { epoch: r.epoch, seq: r.seq, serial: formatSerial(r.epoch, r.seq) };
  }

  private static replay(r: ReadResult, fromSeq: number): ReplayResult {
    if (r.status !== 'complete') return { events: [], complete: false };
    return { events: r.entries.map((e, i) => decodeEntry(e, r.epoch, fromSeq + 1 + i)), complete: true };
  }

  private static lastOf(r: ReadResult, kind: EventKind, count: number, since?: number): ChannelEvent[] {
    // Messages as they now stand, in the places of their originals (message-chain.ts).
    if (kind === 'message')
      return lastPublished(
        r.entries.map((e, i) => decodeEntry(e, r.epoch, r.oldest + i)),
        count,
        since,
      );
    const out: ChannelEvent[] = [];
    for (let i = r.entries.length - 1; i >= 0 && out.length < count; i--) {
      const event = decodeEntry(r.entries[i]!, r.epoch, r.oldest + i);
      if (since !== undefined && event.timestamp < since) break;
      if (event.kind === kind) out.push(event);
    }
    return out.reverse();
  }

  async head(key: ChannelKey): Promise<ChannelHead> {
    return RedisChannelStore.head(await this.read(key, 'none'));
  }

  async readAfter(key: ChannelKey, epoch: string, seq: number, limit: number): Promise<ReplayResult> {
    return RedisChannelStore.replay(await this.read(key, 'from', { epoch, seq }, limit), seq);
  }

  async readLast(key: ChannelKey, kind: EventKind, count: number, since?: number): Promise<ChannelEvent[]> {
    return RedisChannelStore.lastOf(await this.read(key, 'all'), kind, count, since);
  }

  presence(key: ChannelKey, input: ChannelEventInput, options: PresenceOptions): Promise<ChannelEvent | null> {
    return this.presenceSets.presence(key, input, options);
  }

  leaveConnection(key: ChannelKey, connectionId: string, timestamp: number): Promise<ChannelEvent | null> {
    return this.presenceSets.leaveConnection(key, connectionId, timestamp);
  }

  members(key: ChannelKey): Promise<PresenceMessage[]> {
    return this.presenceSets.members(key);
  }

  async attachState(key: ChannelKey, query: AttachQuery): Promise<AttachState> {
    const mode = query.from ? 'from' : query.rewind ? 'all' : 'none';
    const r = await this.read(key, mode, query.from, query.replayLimit, query.members);
    const state: AttachState = { head: RedisChannelStore.head(r), members: r.members.map(decodeMember) };
    if (query.from) state.replay = RedisChannelStore.replay(r, query.from.seq);
    else if (query.rewind)
      state.rewound = RedisChannelStore.lastOf(r, 'message', query.rewind.count, query.rewind.since);
    return state;
  }

  async history(key: ChannelKey, query: HistoryQuery): Promise<HistoryPage> {
    const r = await this.read(key, 'all');
    const head = RedisChannelStore.head(r);
    if (r.seq === 0 && r.entries.length === 0)
      return { head: null, entries: [], more: false, stale: query.epoch !== undefined && query.epoch !== r.epoch };
    const events = r.entries.map((e, i) => decodeEntry(e, r.epoch, r.oldest + i));
    return historyPage(query.kind === 'message' ? historyView(events) : events, head, query);
  }

  message(key: ChannelKey, serial: string): Promise<StoredMessage | null> {
    return this.chains.message(key, serial);
  }

  amend(key: ChannelKey, input: AmendInput): Promise<AmendOutcome> {
    return this.chains.amend(key, input);
  }

  chain(key: ChannelKey, serial: string): Promise<MessageChain | null> {
    return this.chains.chain(key, serial);
  }

  setOccupancy(key: ChannelKey, nodeId: string, metrics: OccupancyMetrics | null): Promise<void> {
    return this.directory.setOccupancy(key, nodeId, metrics);
  }

  occupancy(key: ChannelKey): Promise<OccupancyMetrics | null> {
    return this.directory.occupancy(key);
  }

  list(appId: string, query: ChannelListQuery): Promise<ChannelList> {
    return this.directory.list(appId, query, (key) => {
      const [meta, log] = this.layout.channel(key);
      return [meta, log];
    });
  }
}
