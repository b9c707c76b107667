/** The Redis engine's app store: sandbox apps as JSON with a TTL, and an index to count them. */
import type { Redis } from 'ioredis';
import { isAppRecord, type AppRecord, type CreateAppResult } from '../../apps/record.js';
import type { Clock } from '../../util/clock.js';
import type { AppStore } from '../app-store.js';
import { parseRecord, type CorruptRecords } from './records.js';
import { LuaScript } from './script.js';

/** KEYS: app key, index (zset of id by expiry). ARGV: now, id, record, expires, maxApps. */
const CREATE = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return 'full' end
redis.call('SET', KEYS[1], ARGV[3], 'PX', math.max(1, tonumber(ARGV[4]) - tonumber(ARGV[1])))
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
return 'created'
`);

export class RedisApps implements AppStore {
  constructor(
    private readonly cmd: Redis,
    private readonly clock: Clock,
    private readonly prefix: string,
    private readonly corrupt: CorruptRecords,
  ) {}

  private key(appId: string): string {
    return `${this.prefix}app:${appId}`;
  }

  private get index(): string {
    return `${this.prefix}apps`;
  }

  async create(record: AppRecord, maxApps: number): Promise<CreateAppResult> {
    const id = record.config.id;
    const result = await CREATE.run(
      this.cmd,
      [this.key(id), this.index],
      [this.clock.now(), id, JSON.stringify(record), record.expires, maxApps],
    );
    return String(result) as CreateAppResult;
  }

  async get(appId: string): Promise<AppRecord | undefined> {
    const text = await this.cmd.get(this.key(appId));
    if (text === null) return undefined;
    const record = parseRecord(text, isAppRecord);
    // A corrupt record is no app (its id answers as unknown); it expires with its TTL.
    if (record === undefined) this.corrupt.skipped('app');
    return record !== undefined && record.expires > this.clock.now() ? record : undefined;
  }

  async delete(appId: string): Promise<boolean> {
    const [[, removed] = [null, 0]] =
      (await this.cmd.pipeline().del(this.key(appId)).zrem(this.index, appId).exec()) ?? [];
    return Number(removed) > 0;
  }
}
