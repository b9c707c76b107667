/**
 * Channel occupancy per node and the per-app set of active channels (for `GET /channels`).
 * Occupancy of a dead node no longer counts; active channels are those with live occupancy or a
 * log that still holds events.
 */
import type { Redis } from 'ioredis';
import type { Clock } from '../../util/clock.js';
import {
  isOccupancyMetrics,
  OCCUPANCY_FIELDS,
  splitChannelKey,
  type ChannelKey,
  type ChannelList,
  type ChannelListQuery,
  type OccupancyMetrics,
} from '../channel-store.js';
import type { RedisNodes } from './redis-nodes.js';
import { parseRecord, type CorruptRecords } from './records.js';

export class RedisDirectory {
  constructor(
    private readonly cmd: Redis,
    private readonly clock: Clock,
    private readonly prefix: string,
    private readonly nodes: RedisNodes,
    private readonly defaultMaxAge: number,
    private readonly corrupt: CorruptRecords,
  ) {}

  activeKey(appId: string): string {
    return `${this.prefix}active:{${appId}}`;
  }

  private occupancyKey(key: ChannelKey): string {
    return `${this.prefix}{${key}}:o`;
  }

  /** The channels a node has reported occupancy on (so that a dead node's reports can be removed). */
  private nodeChannels(nodeId: string): string {
    return `${this.prefix}node:${nodeId}:occ`;
  }

  async setOccupancy(key: ChannelKey, nodeId: string, metrics: OccupancyMetrics | null): Promise<void> {
    if (!metrics) {
      await this.cmd.pipeline().hdel(this.occupancyKey(key), nodeId).srem(this.nodeChannels(nodeId), key).exec();
      return;
    }
    const { appId, name } = splitChannelKey(key);
    await this.cmd
      .pipeline()
      .hset(this.occupancyKey(key), nodeId, JSON.stringify(metrics))
      .sadd(this.nodeChannels(nodeId), key)
      .zadd(this.activeKey(appId), this.clock.now(), name)
      .exec();
  }

  /** Removes every occupancy report of a (dead) node. */
  async forgetNode(nodeId: string): Promise<void> {
    const keys = await this.cmd.smembers(this.nodeChannels(nodeId));
    const pipeline = this.cmd.pipeline();
    for (const key of keys) pipeline.hdel(this.occupancyKey(key), nodeId);
    pipeline.del(this.nodeChannels(nodeId));
    await pipeline.exec();
  }

  async occupancy(key: ChannelKey): Promise<OccupancyMetrics | null> {
    return this.sumLive(await this.cmd.hgetall(this.occupancyKey(key)));
  }

  private async sumLive(byNode: Record<string, string>): Promise<OccupancyMetrics | null> {
    const ids = Object.keys(byNode);
    const alive = await this.nodes.alive(ids);
    let sum: OccupancyMetrics | null = null;
    ids.forEach((id, i) => {
      if (!alive[i]) return;
      const m = parseRecord(byNode[id]!, isOccupancyMetrics);
      if (m === undefined) return this.corrupt.skipped('occupancy');
      if (!sum) sum = { ...m };
      else for (const k of OCCUPANCY_FIELDS) sum[k] += m[k];
    });
    return sum;
  }

  async list(
    appId: string,
    query: ChannelListQuery,
    logKeys: (key: ChannelKey) => [meta: string, log: string],
  ): Promise<ChannelList> {
    const prefix = query.prefix ?? '';
    const candidates = (await this.cmd.zrange(this.activeKey(appId), 0, -1))
      .filter((name) => name.startsWith(prefix) && (query.after === undefined || name > query.after))
      .sort();
    const now = this.clock.now();
    const names: string[] = [];
    const stale: string[] = [];
    // Checked in slices, so that a page needs only as many round trips as it takes to fill it.
    for (let i = 0; i < candidates.length && names.length <= query.limit; i += 100) {
      const slice = candidates.slice(i, i + 100);
      const pipeline = this.cmd.pipeline();
      for (const name of slice) {
        const key = `${appId}:${name}`;
        const [meta, log] = logKeys(key);
        pipeline.lindex(log, -1).hget(meta, 'ra').hgetall(this.occupancyKey(key));
      }
      const replies = (await pipeline.exec()) ?? [];
      for (const [j, name] of slice.entries()) {
        const newest = replies[3 * j]?.[1] as string | null;
        const maxAge = Number(replies[3 * j + 1]?.[1] ?? this.defaultMaxAge);
        const occupancy = await this.sumLive((replies[3 * j + 2]?.[1] ?? {}) as Record<string, string>);
        const logged = newest !== null && Number(newest.slice(0, 15)) >= now - maxAge;
        if (logged || occupancy) names.push(name);
        else if (newest === null && !occupancy) stale.push(name);
      }
    }
    if (stale.length > 0) await this.cmd.zrem(this.activeKey(appId), ...stale);
    return { names: names.slice(0, query.limit), more: names.length > query.limit };
  }
}
