/**
 * The Redis engine's auth store: TokenRequest nonces (SET NX with a TTL, so a replay on any node is
 * seen) and token revocations (a key per key name and target, announced to every node over pub/sub).
 * Expiry is judged by the node's clock (stored times); Redis TTLs only clean up.
 */
import { isArrayValue } from '@encke/protocol';
import type { Redis } from 'ioredis';
import type { Clock } from '../../util/clock.js';
import { isTokenRevocation, type AuthStore, type TokenRevocation } from '../auth-store.js';
import { parseRecord, type CorruptRecords } from './records.js';
import { LuaScript } from './script.js';

/** KEYS: nonce key. ARGV: now, expiresAt, ttl. The stored expiry is judged by the node's clock. */
const CLAIM_NONCE = new LuaScript(`
local expires = tonumber(redis.call('GET', KEYS[1]))
if expires and expires > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`);

interface StoredRevocation extends TokenRevocation {
  retainUntil: number;
}

function isStoredRevocation(value: unknown): value is StoredRevocation {
  return isTokenRevocation(value) && 'retainUntil' in value && typeof value.retainUntil === 'number';
}

export class RedisAuthStore implements AuthStore {
  constructor(
    private readonly cmd: Redis,
    private readonly clock: Clock,
    private readonly prefix: string,
    /** Tells the node of a revocation announced by any node. */
    private readonly announce: (revocation: TokenRevocation) => void,
    private readonly corrupt: CorruptRecords,
  ) {}

  /** The pub/sub channel revocations are announced on. */
  get topic(): string {
    return `${this.prefix}revocations`;
  }

  private ttl(until: number): number {
    return Math.max(1, Math.ceil(until - this.clock.now()));
  }

  async claimNonce(keyName: string, nonce: string, expiresAt: number): Promise<boolean> {
    const claimed = await CLAIM_NONCE.run(
      this.cmd,
      [`${this.prefix}nonce:${keyName}\n${nonce}`],
      [this.clock.now(), expiresAt, this.ttl(expiresAt)],
    );
    return Number(claimed) === 1;
  }

  async revoke(revocations: readonly TokenRevocation[], retainUntil: number): Promise<void> {
    if (revocations.length === 0) return;
    const ttl = this.ttl(retainUntil);
    const pipeline = this.cmd.pipeline();
    for (const r of revocations)
      pipeline.set(`${this.prefix}revoked:${r.keyName}\n${r.target}`, JSON.stringify({ ...r, retainUntil }), 'PX', ttl);
    pipeline.publish(this.topic, JSON.stringify(revocations));
    const results = await pipeline.exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0]!;
  }

  async revocations(keyName: string, targets: readonly string[]): Promise<TokenRevocation[]> {
    if (targets.length === 0) return [];
    const values = await this.cmd.mget(...targets.map((t) => `${this.prefix}revoked:${keyName}\n${t}`));
    const now = this.clock.now();
    const found: TokenRevocation[] = [];
    for (const v of values) {
      if (v === null) continue;
      const stored = parseRecord(v, isStoredRevocation);
      if (stored === undefined) this.corrupt.skipped('revocation');
      else if (stored.retainUntil > now) {
        const { retainUntil, ...r } = stored;
        found.push(r);
      }
    }
    return found;
  }

  /** A revocation announcement from any node (including this one): a JSON array of revocations. */
  announced(payload: string): void {
    const list = parseRecord(payload, isArrayValue);
    if (list === undefined) return this.corrupt.skipped('revocation announcement');
    for (const r of list) {
      if (isTokenRevocation(r)) this.announce(r);
      else this.corrupt.skipped('revocation announcement');
    }
  }
}
