/**
 * Node liveness: every node scores itself in a sorted set every `timeout / 3`; a node not seen for
 * `timeout` is dead. Per-node state another node must not trust for ever (occupancy, presence of
 * the dead node's connections) is judged by it.
 */
import type { Redis } from 'ioredis';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';

export class RedisNodes {
  private timer: TimerHandle | undefined;

  constructor(
    private readonly cmd: Redis,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly prefix: string,
    readonly nodeId: string,
    readonly timeout: number,
  ) {}

  get key(): string {
    return `${this.prefix}nodes`;
  }

  async start(): Promise<void> {
    await this.beat();
    this.timer = this.clock.setInterval(
      () => {
        this.beat().catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'node heartbeat failed'));
      },
      Math.max(100, Math.floor(this.timeout / 3)),
    );
  }

  stop(): void {
    this.clock.clearInterval(this.timer);
    this.timer = undefined;
  }

  private async beat(): Promise<void> {
    await this.cmd.zadd(this.key, this.clock.now(), this.nodeId);
  }

  /**
   * Marks this node dead at once (graceful stop): another node cleans up after it without waiting
   * for the timeout; connections that resume elsewhere meanwhile are left alone.
   */
  async leave(): Promise<void> {
    await this.cmd.zadd(this.key, 0, this.nodeId);
  }

  /**
   * Which of `ids` are alive: not known to have gone silent. A node never seen is taken as alive
   * (every node beats before it reports anything); dead nodes stay recorded until `forget`.
   */
  async alive(ids: readonly string[]): Promise<boolean[]> {
    if (ids.length === 0) return [];
    const scores = await this.cmd.zmscore(this.key, ...ids);
    const cutoff = this.clock.now() - this.timeout;
    return scores.map((s) => s === null || Number(s) >= cutoff);
  }

  /** Nodes whose last heartbeat is older than the timeout. */
  async dead(): Promise<string[]> {
    return this.cmd.zrangebyscore(this.key, '-inf', this.clock.now() - this.timeout);
  }

  /** Forgets a dead node once its state has been dealt with. */
  async forget(nodeId: string): Promise<void> {
    await this.cmd.zrem(this.key, nodeId);
  }
}
