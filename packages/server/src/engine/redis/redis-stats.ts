/**
 * The Redis engine's stats: per app and unit, a sorted set of interval starts and a hash per
 * interval. Entries merge as mergeStatsEntry does (`.peak` max, `.min` min, anything else adds) —
 * the rule is repeated in Lua so that a merge is one atomic step; the contract suite checks both.
 */
import type { Redis } from 'ioredis';
import { STATS_UNITS, intervalStart } from '../../stats/intervals.js';
import type { StatsQuery, StatsRecord, StatsStore } from '../stats-store.js';
import { LuaScript } from './script.js';

/** KEYS: index (zset), interval hash. ARGV: start, minute, maxIntervals, hash key prefix, then name, value pairs. */
const ADD = new LuaScript(`
local idx, h = KEYS[1], KEYS[2]
local start, minute, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZADD', idx, start, ARGV[1])
local last = tonumber(redis.call('HGET', h, '_lm'))
if not last or minute > last then redis.call('HSET', h, '_lm', minute) end
for i = 5, #ARGV, 2 do
  local name, value = ARGV[i], tonumber(ARGV[i + 1])
  local current = tonumber(redis.call('HGET', h, name))
  if current == nil then
    redis.call('HSET', h, name, ARGV[i + 1])
  elseif string.sub(name, -5) == '.peak' then
    if value > current then redis.call('HSET', h, name, ARGV[i + 1]) end
  elseif string.sub(name, -4) == '.min' then
    if value < current then redis.call('HSET', h, name, ARGV[i + 1]) end
  else
    redis.call('HINCRBYFLOAT', h, name, ARGV[i + 1])
  end
end
while redis.call('ZCARD', idx) > max do
  local oldest = redis.call('ZPOPMIN', idx)
  redis.call('DEL', ARGV[4] .. oldest[1])
end
return 1
`);

export class RedisStats implements StatsStore {
  constructor(
    private readonly cmd: Redis,
    private readonly prefix: string,
    private readonly maxIntervals: number,
  ) {}

  private base(appId: string, unit: string): string {
    return `${this.prefix}stats:{${appId}}:${unit}`;
  }

  async add(appId: string, minute: number, entries: Readonly<Record<string, number>>): Promise<void> {
    const pairs = Object.entries(entries).flatMap(([name, value]) => [name, String(value)]);
    await Promise.all(
      STATS_UNITS.map((unit) => {
        const base = this.base(appId, unit);
        const start = intervalStart(unit, minute);
        return ADD.run(
          this.cmd,
          [`${base}:idx`, `${base}:${start}`],
          [start, minute, this.maxIntervals, `${base}:`, ...pairs],
        );
      }),
    );
  }

  async read(appId: string, query: StatsQuery): Promise<{ records: StatsRecord[]; more: boolean }> {
    const base = this.base(appId, query.unit);
    const starts =
      query.direction === 'forwards'
        ? await this.cmd.zrangebyscore(`${base}:idx`, query.from, query.to, 'LIMIT', 0, query.limit + 1)
        : await this.cmd.zrevrangebyscore(`${base}:idx`, query.to, query.from, 'LIMIT', 0, query.limit + 1);
    const page = starts.slice(0, query.limit);
    const pipeline = this.cmd.pipeline();
    for (const start of page) pipeline.hgetall(`${base}:${start}`);
    const hashes = (await pipeline.exec()) ?? [];
    const records: StatsRecord[] = page.map((start, i) => {
      const hash = (hashes[i]?.[1] ?? {}) as Record<string, string>;
      const entries: Record<string, number> = {};
      for (const [name, value] of Object.entries(hash)) if (name !== '_lm') entries[name] = Number(value);
      return { unit: query.unit, start: Number(start), lastMinute: Number(hash._lm ?? start), entries };
    });
    return { records, more: starts.length > query.limit };
  }
}
