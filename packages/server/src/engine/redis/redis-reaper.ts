/**
 * Cleans up after dead nodes. Every node looks for dead ones every `nodeTimeout / 2`; one wins a lock
 * per dead node and, for every connection the dead node still owns (none resumed elsewhere in the
 * meantime), makes its presence members leave and leaves the record resumable for
 * `connectionStateTtl`. The dead node's occupancy reports are removed, then the node is forgotten.
 */
import type { Redis } from 'ioredis';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { channelKey, type ChannelKey } from '../channel-store.js';
import type { RedisConnections } from './redis-connections.js';
import type { RedisDirectory } from './redis-directory.js';
import type { RedisNodes } from './redis-nodes.js';

export interface ReaperDeps {
  cmd: Redis;
  clock: Clock;
  logger: Logger;
  prefix: string;
  nodes: RedisNodes;
  connections: RedisConnections;
  directory: RedisDirectory;
  connectionStateTtl: number;
  leaveConnection(key: ChannelKey, connectionId: string, timestamp: number): Promise<unknown>;
}

export class RedisReaper {
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(private readonly d: ReaperDeps) {}

  start(): void {
    this.timer = this.d.clock.setInterval(() => void this.sweep(), Math.max(100, Math.floor(this.d.nodes.timeout / 2)));
  }

  stop(): void {
    this.d.clock.clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass: every dead node this node wins the lock for is cleaned up. */
  async sweep(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const dead of await this.d.nodes.dead()) {
        if (dead === this.d.nodes.nodeId) continue;
        const locked = await this.d.cmd.set(
          `${this.d.prefix}reap:${dead}`,
          this.d.nodes.nodeId,
          'PX',
          this.d.nodes.timeout * 4,
          'NX',
        );
        if (locked === 'OK') await this.reap(dead);
      }
    } catch (err) {
      this.d.logger.warn({ err: (err as Error).message }, 'dead node cleanup failed; retrying later');
    } finally {
      this.running = false;
    }
  }

  private async reap(dead: string): Promise<void> {
    const { connections, logger } = this.d;
    const owned = await connections.ownedBy(dead);
    let left = 0;
    for (const connectionId of owned) {
      const record = await connections.load(connectionId);
      if (record && record.owner === dead) {
        const now = this.d.clock.now();
        for (const channel of record.presenceChannels) {
          await this.d.leaveConnection(channelKey(record.appId, channel), connectionId, now);
          left++;
        }
        await connections.setPresenceChannels(connectionId, []);
        await connections.suspend(connectionId, this.d.connectionStateTtl);
      }
      await this.d.cmd.srem(connections.nodeSet(dead), connectionId);
    }
    await this.d.directory.forgetNode(dead);
    await connections.forgetNode(dead);
    await this.d.nodes.forget(dead);
    logger.warn({ node: dead, connections: owned.length, presenceChannelsLeft: left }, 'cleaned up after a dead node');
  }
}
