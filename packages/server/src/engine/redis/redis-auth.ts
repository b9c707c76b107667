/**
 * The Redis engine's auth store: TokenRequest nonces (SET NX with a TTL, so a replay on any node is
 * seen) and token revocations (a key per key name and target, announced to every node over pub/sub).
 * TTLs are relative to the node's clock, so nodes need not share a clock with Redis.
 */
import type { Redis } from 'ioredis';
import type { Clock } from '../../util/clock.js';
import type { AuthStore, RevocationListener, TokenRevocation } from '../engine.js';

export class RedisAuthStore implements AuthStore {
  private listener: RevocationListener = () => {};

  constructor(
    private readonly cmd: Redis,
    private readonly clock: Clock,
    private readonly prefix: string,
  ) {}

  /** The pub/sub channel revocations are announced on. */
  get topic(): string {
    return `${this.prefix}revocations`;
  }

  private ttl(until: number): number {
    return Math.max(1, Math.ceil(until - this.clock.now()));
  }

  async claimNonce(keyName: string, nonce: string, expiresAt: number): Promise<boolean> {
    const result = await this.cmd.set(`${this.prefix}nonce:${keyName}\n${nonce}`, '1', 'PX', this.ttl(expiresAt), 'NX');
    return result === 'OK';
  }

  async revoke(revocations: readonly TokenRevocation[], retainUntil: number): Promise<void> {
    if (revocations.length === 0) return;
    const ttl = this.ttl(retainUntil);
    const pipeline = this.cmd.pipeline();
    for (const r of revocations) pipeline.set(`${this.prefix}revoked:${r.keyName}\n${r.target}`, JSON.stringify(r), 'PX', ttl);
    pipeline.publish(this.topic, JSON.stringify(revocations));
    const results = await pipeline.exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0]!;
  }

  async revocations(keyName: string, targets: readonly string[]): Promise<TokenRevocation[]> {
    if (targets.length === 0) return [];
    const values = await this.cmd.mget(...targets.map((t) => `${this.prefix}revoked:${keyName}\n${t}`));
    return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as TokenRevocation);
  }

  setRevocationListener(listener: RevocationListener): void {
    this.listener = listener;
  }

  /** A revocation announcement from any node (including this one). */
  announced(payload: string): void {
    for (const r of JSON.parse(payload) as TokenRevocation[]) this.listener(r);
  }
}
