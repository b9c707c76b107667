/**
 * Connections in Redis, so that any node can resume them: a hash per connection, a set per node of
 * the connections it owns (for dead-node cleanup), and a pub/sub channel per node on which it hears
 * that another node took one of its connections over.
 */
import { isArrayValue } from '@encke/protocol';
import type { Redis } from 'ioredis';
import type { ConnectionRecord, ConnectionStore, NodeAddress } from '../connection-store.js';
import type { RedisNodes } from './redis-nodes.js';
import { parseRecord, type CorruptRecords } from './records.js';
import { LuaScript } from './script.js';

/**
 * KEYS: connection hash. ARGV: owner, secret hash, key prefix, connection id. Sets the owner and
 * secret hash, makes the record live again (no expiry), moves it between the node sets and tells
 * the previous owner. Returns the previous owner ('' if none).
 */
const CLAIM = new LuaScript(`
local previous = redis.call('HGET', KEYS[1], 'o') or ''
redis.call('HSET', KEYS[1], 'o', ARGV[1], 'h', ARGV[2])
redis.call('PERSIST', KEYS[1])
local prefix, id = ARGV[3], ARGV[4]
if previous ~= '' and previous ~= ARGV[1] then
  redis.call('SREM', prefix .. 'node:' .. previous .. ':conns', id)
  redis.call('PUBLISH', prefix .. 'node:' .. previous, 'takeover|' .. id .. '|' .. ARGV[1])
end
redis.call('SADD', prefix .. 'node:' .. ARGV[1] .. ':conns', id)
return previous
`);

/** KEYS: connection hash. ARGV: channels JSON. Only an existing record: a disposed one stays gone. */
const SET_PRESENCE_CHANNELS = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'pc', ARGV[1]) end
return 1
`);

/** A connection's presence channels as stored (`pc`): a JSON array of names. */
function isChannelList(value: unknown): value is string[] {
  return isArrayValue(value) && value.every((name) => typeof name === 'string');
}

export class RedisConnections implements ConnectionStore {
  constructor(
    private readonly cmd: Redis,
    private readonly prefix: string,
    private readonly nodes: RedisNodes,
    /** Tells this node that another node took one of its connections over. */
    private readonly takenOver: (connectionId: string, newOwner: string) => void,
    private readonly corrupt: CorruptRecords,
  ) {}

  private get urls(): string {
    return `${this.prefix}nodes:url`;
  }

  async advertise(url: string): Promise<void> {
    await this.cmd.hset(this.urls, this.nodes.nodeId, url);
  }

  /** Forgets a dead node's URL. */
  async forgetNode(nodeId: string): Promise<void> {
    await this.cmd.hdel(this.urls, nodeId);
  }

  async node(nodeId: string): Promise<NodeAddress> {
    const [url, [alive]] = await Promise.all([this.cmd.hget(this.urls, nodeId), this.nodes.alive([nodeId])]);
    return { url: url ?? undefined, alive: alive === true };
  }

  key(connectionId: string): string {
    return `${this.prefix}conn:${connectionId}`;
  }

  nodeSet(nodeId: string): string {
    return `${this.prefix}node:${nodeId}:conns`;
  }

  /** The pub/sub channel a node listens on for takeovers of its connections. */
  nodeTopic(nodeId: string): string {
    return `${this.prefix}node:${nodeId}`;
  }

  async save(r: ConnectionRecord): Promise<void> {
    const fields = [
      'a',
      r.appId,
      'h',
      r.secretHash,
      'ms',
      String(r.msgSerial),
      'rp',
      String(r.remainPresentFor),
      'pc',
      JSON.stringify(r.presenceChannels),
      'o',
      r.owner,
    ];
    if (r.clientId !== undefined) fields.push('c', r.clientId);
    await this.cmd
      .pipeline()
      .del(this.key(r.connectionId))
      .hset(this.key(r.connectionId), ...fields)
      .sadd(this.nodeSet(r.owner), r.connectionId)
      .exec();
  }

  async load(connectionId: string): Promise<ConnectionRecord | undefined> {
    const h = await this.cmd.hgetall(this.key(connectionId));
    if (h.a === undefined || h.h === undefined || h.o === undefined) return undefined;
    const presenceChannels = parseRecord(h.pc ?? '[]', isChannelList);
    if (presenceChannels === undefined) {
      // Not resumable, and the reaper cannot tell which channels to leave: as if it were gone.
      this.corrupt.skipped('connection');
      return undefined;
    }
    const record: ConnectionRecord = {
      connectionId,
      appId: h.a,
      secretHash: h.h,
      msgSerial: Number(h.ms ?? -1),
      remainPresentFor: Number(h.rp ?? 0),
      presenceChannels,
      owner: h.o,
    };
    if (h.c !== undefined) record.clientId = h.c;
    return record;
  }

  async claim(connectionId: string, owner: string, secretHash: string): Promise<string | undefined> {
    const previous = String(
      await CLAIM.run(this.cmd, [this.key(connectionId)], [owner, secretHash, this.prefix, connectionId]),
    );
    return previous === '' ? undefined : previous;
  }

  async suspend(connectionId: string, ttl: number): Promise<void> {
    await this.cmd.pexpire(this.key(connectionId), Math.max(1, ttl));
  }

  async setPresenceChannels(connectionId: string, channels: readonly string[]): Promise<void> {
    await SET_PRESENCE_CHANNELS.run(this.cmd, [this.key(connectionId)], [JSON.stringify(channels)]);
  }

  async remove(connectionId: string): Promise<void> {
    const owner = await this.cmd.hget(this.key(connectionId), 'o');
    const pipeline = this.cmd.pipeline().del(this.key(connectionId));
    if (owner) pipeline.srem(this.nodeSet(owner), connectionId);
    await pipeline.exec();
  }

  /** Connections `nodeId` owns. */
  ownedBy(nodeId: string): Promise<string[]> {
    return this.cmd.smembers(this.nodeSet(nodeId));
  }

  /** A message on this node's topic. */
  heard(payload: string): void {
    const [kind, connectionId, owner] = payload.split('|');
    if (kind === 'takeover' && connectionId && owner) this.takenOver(connectionId, owner);
  }
}
