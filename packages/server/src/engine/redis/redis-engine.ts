/**
 * The Redis engine: channel logs, serials, presence and fan-out shared by every node. Writes are Lua
 * scripts (serial + append + trim + PUBLISH in one atomic step); each node SUBSCRIBEs only to the
 * channels its clients attached. A single Redis (not Redis Cluster) is supported; keys of one
 * channel share a hash tag so that the layout would suit a cluster later.
 */
import { AblyError, Err, type PresenceMessage } from '@encke/protocol';
import { Redis } from 'ioredis';
import type { Clock } from '../../util/clock.js';
import { randomAlnum } from '../../util/ids.js';
import type { Logger } from '../../util/logger.js';
import {
  splitChannelKey,
  type AppStore,
  type ConnectionStore,
  type ChannelList,
  type ChannelListQuery,
  type HistoryPage,
  type HistoryQuery,
  type OccupancyMetrics,
  type StatsStore,
} from '../engine.js';
import type {
  AuthStore,
  AttachQuery,
  AttachState,
  ChannelEvent,
  ChannelEventInput,
  ChannelHead,
  ChannelKey,
  ChannelStore,
  Engine,
  EngineListener,
  EventKind,
  PresenceOptions,
  PublishOptions,
  PublishOutcome,
  ReplayResult,
} from '../engine.js';
import { formatSerial } from '../../channels/serial.js';
import { decodeEntry, decodeMember, decodePublished, encodeEventBody } from './codec.js';
import { PUBLISH, READ } from './lua.js';
import { RedisLayout, checkNotMoved, eventFrom, text } from './redis-layout.js';
import { RedisPresence } from './redis-presence.js';
import { LuaScript } from './script.js';
import { RedisAuthStore } from './redis-auth.js';
import { RedisApps } from './redis-apps.js';
import { connectWithin, DEFAULT_CONNECT_TIMEOUT } from './connect.js';
import { RedisConnections } from './redis-connections.js';
import { RedisReaper } from './redis-reaper.js';
import { RedisDirectory } from './redis-directory.js';
import { RedisNodes } from './redis-nodes.js';
import { RedisStats } from './redis-stats.js';
import { historyPage } from '../history.js';

export interface RedisEngineOptions {
  /** `redis://[:password@]host:port[/db]` */
  url: string;
  /** Prefix of every key and pub/sub channel, so several deployments can share one Redis. */
  prefix: string;
  clock: Clock;
  logger: Logger;
  logMaxCount: number;
  logMaxAge: number;
  /** How long an unused channel keeps its keys (and epoch). */
  channelRetention: number;
  /** This node's id (its serverId): names its occupancy and its liveness. */
  nodeId: string;
  /** A node silent for this long (ms) is dead: its occupancy no longer counts. */
  nodeTimeout: number;
  /** Stats intervals kept per app and unit. */
  statsMaxIntervals: number;
  /** How long a connection of a dead node stays resumable elsewhere. */
  connectionStateTtl: number;
  /** How long (ms) `start()` retries an unreachable Redis before failing. @default 10000 */
  connectTimeout?: number;
}

const scripts = {
  publish: new LuaScript(PUBLISH),
  read: new LuaScript(READ),
};

/** The Redis URL without its password, for logs. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis://?';
  }
}


interface ReadResult {
  epoch: string;
  seq: number;
  oldest: number;
  status: string;
  members: Buffer[];
  entries: Buffer[];
}

export class RedisEngine implements Engine, ChannelStore {
  readonly shared = true;
  readonly channels: ChannelStore = this;
  readonly auth: AuthStore;
  readonly stats: StatsStore;
  readonly apps: AppStore;
  private readonly authStore: RedisAuthStore;
  readonly connections: ConnectionStore;
  private readonly connectionStore: RedisConnections;
  private readonly nodes: RedisNodes;
  private readonly directory: RedisDirectory;
  private readonly reaper: RedisReaper;
  private readonly layout: RedisLayout;
  private readonly presenceStore: RedisPresence;
  private readonly cmd: Redis;
  private readonly sub: Redis;
  private listener: EngineListener = () => {};
  private resyncListener: () => void = () => {};
  private readonly topics = new Set<string>();
  private everReady = false;
  private closed = false;

  constructor(private readonly options: RedisEngineOptions) {
    const common = { maxRetriesPerRequest: 3, retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000), lazyConnect: true };
    this.cmd = new Redis(options.url, { ...common, connectionName: 'encke-cmd' });
    this.sub = new Redis(options.url, { ...common, connectionName: 'encke-sub', autoResubscribe: false });
    this.sub.on('messageBuffer', (topic: Buffer, payload: Buffer) => this.onPublished(topic.toString('utf8'), payload));
    for (const [name, conn] of [['commands', this.cmd], ['subscriber', this.sub]] as const) {
      conn.on('error', (err: Error) => {
        if (!this.closed) options.logger.warn({ redis: name, err: err.message }, 'redis connection error');
      });
      conn.on('reconnecting', () => {
        if (!this.closed) options.logger.warn({ redis: name }, 'redis connection lost; reconnecting');
      });
    }
    this.sub.on('ready', () => this.onSubscriberReady());
    this.auth = this.authStore = new RedisAuthStore(this.cmd, options.clock, options.prefix);
    this.topics.add(this.authStore.topic);
    this.stats = new RedisStats(this.cmd, options.prefix, options.statsMaxIntervals);
    this.apps = new RedisApps(this.cmd, options.clock, options.prefix);
    this.nodes = new RedisNodes(this.cmd, options.clock, options.logger, options.prefix, options.nodeId, options.nodeTimeout);
    this.directory = new RedisDirectory(this.cmd, options.clock, options.prefix, this.nodes, options.logMaxAge);
    this.connections = this.connectionStore = new RedisConnections(this.cmd, options.prefix, this.nodes);
    this.layout = new RedisLayout(options);
    this.presenceStore = new RedisPresence(this.cmd, this.layout, (appId) => this.directory.activeKey(appId), (id) => this.connectionStore.key(id), options.nodeId);
    this.topics.add(this.connectionStore.nodeTopic(options.nodeId));
    this.reaper = new RedisReaper({
      cmd: this.cmd,
      clock: options.clock,
      logger: options.logger,
      prefix: options.prefix,
      nodes: this.nodes,
      connections: this.connectionStore,
      directory: this.directory,
      connectionStateTtl: options.connectionStateTtl,
      leaveConnection: (key, connectionId, timestamp) => this.leaveConnection(key, connectionId, timestamp),
    });
  }

  /** Creates the engine and waits until it is connected. */
  static async connect(options: RedisEngineOptions): Promise<RedisEngine> {
    const engine = new RedisEngine(options);
    await engine.start();
    return engine;
  }

  /** Connects both Redis connections, subscribes to revocations and starts the node heartbeat. */
  async start(): Promise<void> {
    await connectWithin([this.cmd, this.sub], redactUrl(this.options.url), this.options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT);
    await this.sub.subscribe(this.authStore.topic, this.connectionStore.nodeTopic(this.options.nodeId));
    await this.nodes.start();
    this.reaper.start();
    this.options.logger.info({ redis: redactUrl(this.options.url), nodeId: this.options.nodeId }, 'redis engine connected');
  }

  /** Both connections to Redis are up (the node's /ready). */
  isReady(): boolean {
    return !this.closed && this.cmd.status === 'ready' && this.sub.status === 'ready';
  }

  setListener(listener: EngineListener): void {
    this.listener = listener;
  }

  setResyncListener(listener: () => void): void {
    this.resyncListener = listener;
  }

  async close(): Promise<void> {
    this.reaper.stop();
    this.nodes.stop();
    await this.nodes.leave().catch(() => undefined);
    this.closed = true;
    await Promise.allSettled([this.cmd.quit(), this.sub.quit()]);
  }

  // ---- fan-out ------------------------------------------------------------------------------------

  private onPublished(topic: string, payload: Buffer): void {
    if (topic === this.authStore.topic) {
      this.authStore.announced(payload.toString('utf8'));
      return;
    }
    if (topic === this.connectionStore.nodeTopic(this.options.nodeId)) {
      this.connectionStore.heard(payload.toString('utf8'));
      return;
    }
    const prefix = `${this.options.prefix}ev:`;
    if (!topic.startsWith(prefix)) return;
    let event: ChannelEvent;
    try {
      event = decodePublished(payload);
    } catch (err) {
      this.options.logger.error({ err }, 'undecodable event from redis');
      return;
    }
    this.listener(topic.slice(prefix.length), event);
  }

  /** After a reconnect: subscribe again, then let the node fetch what it may have missed. */
  private onSubscriberReady(): void {
    if (!this.everReady) {
      this.everReady = true;
      return;
    }
    const topics = [...this.topics];
    this.options.logger.info({ channels: topics.length }, 'redis connection restored; resubscribing and resyncing');
    const resubscribed = topics.length > 0 ? this.sub.subscribe(...topics) : Promise.resolve(0);
    resubscribed.then(
      () => this.resyncListener(),
      (err: unknown) => this.options.logger.error({ err }, 'redis resubscribe failed'),
    );
  }

  async subscribe(key: ChannelKey): Promise<void> {
    const topic = this.layout.topic(key);
    this.topics.add(topic);
    await this.sub.subscribe(topic);
  }

  async unsubscribe(key: ChannelKey): Promise<void> {
    const topic = this.layout.topic(key);
    this.topics.delete(topic);
    await this.sub.unsubscribe(topic);
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
      const idKeys = withIds.map(({ m }) => `${this.options.prefix}{${key}}:i:${m.id!}`);
      const indexes = withIds.map(({ m }) => fresh.findIndex((f) => f.m === m));
      const eventInput: ChannelEventInput = input.messages ? { ...input, messages: fresh.map(({ m }) => m) } : input;
      const retention = options?.retention;
      const reply = (await scripts.publish.run(this.cmd, [meta, log, this.directory.activeKey(appId), ...idKeys], [
        ...this.layout.limits(),
        this.layout.topic(key),
        randomAlnum(8),
        encodeEventBody(eventInput),
        window,
        name,
        retention ? retention.maxCount : '',
        retention ? retention.maxAge : '',
        options?.connection ? this.connectionStore.key(options.connection.id) : '',
        options?.connection?.msgSerial ?? 0,
        this.options.nodeId,
        ...indexes,
      ])) as Buffer[];
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

  private async read(key: ChannelKey, mode: 'none' | 'from' | 'all', from?: { epoch: string; seq: number }, limit = 0, withMembers = false): Promise<ReadResult> {
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
    const out: ChannelEvent[] = [];
    for (let i = r.entries.length - 1; i >= 0 && out.length < count; i--) {
      const event = decodeEntry(r.entries[i]!, r.epoch, r.oldest + i);
      if (since !== undefined && event.timestamp < since) break;
      if (event.kind === kind) out.push(event);
    }
    return out.reverse();
  }

  async head(key: ChannelKey): Promise<ChannelHead> {
    return RedisEngine.head(await this.read(key, 'none'));
  }

  async readAfter(key: ChannelKey, epoch: string, seq: number, limit: number): Promise<ReplayResult> {
    return RedisEngine.replay(await this.read(key, 'from', { epoch, seq }, limit), seq);
  }

  async readLast(key: ChannelKey, kind: EventKind, count: number, since?: number): Promise<ChannelEvent[]> {
    return RedisEngine.lastOf(await this.read(key, 'all'), kind, count, since);
  }

  presence(key: ChannelKey, input: ChannelEventInput, options: PresenceOptions): Promise<ChannelEvent | null> {
    return this.presenceStore.presence(key, input, options);
  }

  leaveConnection(key: ChannelKey, connectionId: string, timestamp: number): Promise<ChannelEvent | null> {
    return this.presenceStore.leaveConnection(key, connectionId, timestamp);
  }

  members(key: ChannelKey): Promise<PresenceMessage[]> {
    return this.presenceStore.members(key);
  }

  async attachState(key: ChannelKey, query: AttachQuery): Promise<AttachState> {
    const mode = query.from ? 'from' : query.rewind ? 'all' : 'none';
    const r = await this.read(key, mode, query.from, query.replayLimit, query.members);
    const state: AttachState = { head: RedisEngine.head(r), members: r.members.map(decodeMember) };
    if (query.from) state.replay = RedisEngine.replay(r, query.from.seq);
    else if (query.rewind) state.rewound = RedisEngine.lastOf(r, 'message', query.rewind.count, query.rewind.since);
    return state;
  }

  async history(key: ChannelKey, query: HistoryQuery): Promise<HistoryPage> {
    const r = await this.read(key, 'all');
    const head = RedisEngine.head(r);
    if (r.seq === 0 && r.entries.length === 0) return { head: null, entries: [], more: false, stale: query.epoch !== undefined && query.epoch !== r.epoch };
    const events = r.entries.map((e, i) => decodeEntry(e, r.epoch, r.oldest + i));
    return historyPage(events, head, query);
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
