/**
 * The Redis engine: channel logs, serials, presence and fan-out shared by every node, on two Redis
 * connections (commands, and pub/sub). Each node SUBSCRIBEs only to the channels its clients
 * attached, to revocations, and to its own topic (takeovers of its connections). A single Redis
 * (not Redis Cluster) is supported; keys of one channel share a hash tag so that the layout would
 * suit a cluster later. ioredis itself is loaded only when a Redis engine is made.
 */
import type { Redis } from 'ioredis';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import type { ChannelEvent } from '../channel-store.js';
import type { Engine, EngineEvents } from '../engine.js';
import { decodePublished } from './codec.js';
import { redisClient } from './ioredis.js';
import { RedisApps } from './redis-apps.js';
import { connectWithin, DEFAULT_CONNECT_TIMEOUT } from './connect.js';
import { RedisAuthStore } from './redis-auth.js';
import { RedisChannelStore } from './redis-channel-store.js';
import { RedisConnections } from './redis-connections.js';
import { RedisDirectory } from './redis-directory.js';
import { RedisLayout } from './redis-layout.js';
import { RedisNodes } from './redis-nodes.js';
import { RedisChains } from './redis-chains.js';
import { RedisPresence } from './redis-presence.js';
import { RedisReaper } from './redis-reaper.js';
import { CorruptRecords } from './records.js';
import { RedisStats } from './redis-stats.js';
import { ScriptRunner } from './script.js';

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

/** ioredis options of both connections: a command fails after 3 retries; reconnects back off to 2 s. */
const CLIENT_OPTIONS = {
  maxRetriesPerRequest: 3,
  retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
  lazyConnect: true,
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

export class RedisEngine implements Engine {
  readonly shared = true;
  readonly channels: RedisChannelStore;
  readonly auth: RedisAuthStore;
  readonly stats: RedisStats;
  readonly apps: RedisApps;
  readonly connections: RedisConnections;
  private readonly nodes: RedisNodes;
  private readonly reaper: RedisReaper;
  private readonly cmd: Redis;
  private readonly sub: Redis;
  /** The node's handler, from `start` on. */
  private events: EngineEvents | null = null;
  /** Every topic subscribed to, to subscribe again after a reconnect. */
  private readonly topics = new Set<string>();
  private readonly channelTopicPrefix: string;
  private everReady = false;
  private closed = false;

  constructor(private readonly options: RedisEngineOptions) {
    const { clock, prefix, nodeId } = options;
    this.cmd = redisClient(options.url, { ...CLIENT_OPTIONS, connectionName: 'encke-cmd' });
    this.sub = redisClient(options.url, { ...CLIENT_OPTIONS, connectionName: 'encke-sub', autoResubscribe: false });
    // Every script runs on `cmd`, in call order (script.ts); its runner reports through our logger.
    ScriptRunner.of(this.cmd, options.logger);
    this.sub.on('messageBuffer', (topic: Buffer, payload: Buffer) => this.onPublished(topic.toString('utf8'), payload));
    this.logConnectionEvents('commands', this.cmd);
    this.logConnectionEvents('subscriber', this.sub);
    this.sub.on('ready', () => this.onSubscriberReady());
    const layout = new RedisLayout(options);
    const corrupt = new CorruptRecords(options.logger);
    this.channelTopicPrefix = layout.topic('');
    this.auth = new RedisAuthStore(
      this.cmd,
      clock,
      prefix,
      (revocation) => this.events?.onRevocation(revocation),
      corrupt,
    );
    this.stats = new RedisStats(this.cmd, prefix, options.statsMaxIntervals);
    this.apps = new RedisApps(this.cmd, clock, prefix, corrupt);
    this.nodes = new RedisNodes(this.cmd, clock, options.logger, prefix, nodeId, options.nodeTimeout);
    const directory = new RedisDirectory(this.cmd, clock, prefix, this.nodes, options.logMaxAge, corrupt);
    const onTakeover = (id: string, owner: string): void => this.events?.onTakeover(id, owner);
    this.connections = new RedisConnections(this.cmd, prefix, this.nodes, onTakeover, corrupt);
    const connectionKey = (id: string): string => this.connections.key(id);
    const activeKey = (appId: string): string => directory.activeKey(appId);
    const presence = new RedisPresence(this.cmd, layout, activeKey, connectionKey, nodeId);
    const chains = new RedisChains(this.cmd, layout, activeKey, connectionKey, nodeId);
    const topics = {
      subscribe: (topic: string) => this.subscribe(topic),
      unsubscribe: (topic: string) => this.unsubscribe(topic),
    };
    this.channels = new RedisChannelStore(this.cmd, layout, directory, presence, chains, topics, connectionKey, nodeId);
    this.reaper = this.newReaper(directory);
  }

  /** Connection errors and reconnects are logged (until close), never thrown. */
  private logConnectionEvents(name: 'commands' | 'subscriber', conn: Redis): void {
    conn.on('error', (err: Error) => {
      if (!this.closed) this.options.logger.warn({ redis: name, err: err.message }, 'redis connection error');
    });
    conn.on('reconnecting', () => {
      if (!this.closed) this.options.logger.warn({ redis: name }, 'redis connection lost; reconnecting');
    });
  }

  /** The reaper of dead nodes' connections and members (redis-reaper.ts). */
  private newReaper(directory: RedisDirectory): RedisReaper {
    const { clock, logger, prefix, connectionStateTtl } = this.options;
    return new RedisReaper({
      cmd: this.cmd,
      clock,
      logger,
      prefix,
      nodes: this.nodes,
      connections: this.connections,
      directory,
      connectionStateTtl,
      leaveConnection: (key, connectionId, timestamp) => this.channels.leaveConnection(key, connectionId, timestamp),
    });
  }

  /** Both connections to Redis are up (the node's /ready). */
  isReady(): boolean {
    return !this.closed && this.cmd.status === 'ready' && this.sub.status === 'ready';
  }

  /**
   * Connects both Redis connections, subscribes to revocations and to this node's topic, starts the
   * node heartbeat and the reaper, and from then on tells `events` what happens.
   */
  async start(events: EngineEvents): Promise<void> {
    this.events = events;
    await connectWithin(
      [this.cmd, this.sub],
      redactUrl(this.options.url),
      this.options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT,
    );
    await this.subscribe(this.auth.topic);
    await this.subscribe(this.connections.nodeTopic(this.options.nodeId));
    await this.nodes.start();
    this.reaper.start();
    this.options.logger.info(
      { redis: redactUrl(this.options.url), nodeId: this.options.nodeId },
      'redis engine connected',
    );
  }

  async close(): Promise<void> {
    this.reaper.stop();
    this.nodes.stop();
    await this.nodes.leave().catch(() => undefined);
    this.closed = true;
    this.events = null;
    await Promise.allSettled([this.cmd.quit(), this.sub.quit()]);
  }

  private async subscribe(topic: string): Promise<void> {
    this.topics.add(topic);
    await this.sub.subscribe(topic);
  }

  private async unsubscribe(topic: string): Promise<void> {
    this.topics.delete(topic);
    await this.sub.unsubscribe(topic);
  }

  // ---- fan-out ------------------------------------------------------------------------------------

  /** Routes what arrives on a topic: a revocation, a takeover of this node's connection, or a channel event. */
  private onPublished(topic: string, payload: Buffer): void {
    if (topic === this.auth.topic) {
      this.auth.announced(payload.toString('utf8'));
      return;
    }
    if (topic === this.connections.nodeTopic(this.options.nodeId)) {
      this.connections.heard(payload.toString('utf8'));
      return;
    }
    if (!topic.startsWith(this.channelTopicPrefix)) return;
    let event: ChannelEvent;
    try {
      event = decodePublished(payload);
    } catch (err) {
      this.options.logger.error({ err }, 'undecodable event from redis');
      return;
    }
    this.events?.onChannelEvent(topic.slice(this.channelTopicPrefix.length), event);
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
      () => this.events?.onResync(),
      (err: unknown) => this.options.logger.error({ err }, 'redis resubscribe failed'),
    );
  }
}
