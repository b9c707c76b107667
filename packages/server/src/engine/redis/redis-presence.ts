/**
 * Presence in Redis: a compare-and-set over the channel's presence hash. The node reads the members
 * a change touches, works out the effect with the shared rules (presence-set.ts), and a script
 * applies it only if those members are unchanged, appending the event in the same step; a
 * concurrent change elsewhere means read again and retry.
 */
import { AblyError, Err, type PresenceMessage } from '@encke/protocol';
import type { Redis } from 'ioredis';
import { randomAlnum } from '../../util/ids.js';
import {
  splitChannelKey,
  type ChannelEvent,
  type ChannelEventInput,
  type ChannelKey,
  type PresenceOptions,
} from '../channel-store.js';
import { diffPresence, memberKey, synthesiseLeaves, type MemberLookup } from '../presence-set.js';
import { decodeMember, encodeEventBody, encodeMember } from './codec.js';
import { CONNECTION_MEMBERS, PRESENCE } from './lua.js';
import { checkNotMoved, eventFrom, text, type RedisLayout } from './redis-layout.js';
import { LuaScript } from './script.js';

const PRESENCE_SCRIPT = new LuaScript(PRESENCE);
const CONNECTION_MEMBERS_SCRIPT = new LuaScript(CONNECTION_MEMBERS);

/** Concurrent presence changes on one channel retry their compare-and-set this many times. */
const PRESENCE_ATTEMPTS = 20;

export class RedisPresence {
  constructor(
    private readonly cmd: Redis,
    private readonly layout: RedisLayout,
    private readonly activeKey: (appId: string) => string,
    private readonly connectionKey: (connectionId: string) => string,
    private readonly nodeId: string,
  ) {}

  async presence(key: ChannelKey, input: ChannelEventInput, options: PresenceOptions): Promise<ChannelEvent | null> {
    const changes = input.presence ?? [];
    const touched = [...new Set(changes.map((c) => memberKey(c.connectionId, c.clientId)))];
    const [, , membersKey] = this.layout.channel(key);
    for (let attempt = 0; attempt < PRESENCE_ATTEMPTS; attempt++) {
      const snapshot = await this.cmd
        .pipeline()
        .hmgetBuffer(membersKey, ...touched)
        .hlen(membersKey)
        .exec();
      const values = (snapshot?.[0]?.[1] ?? []) as (Buffer | null)[];
      const size = Number(snapshot?.[1]?.[1] ?? 0);
      const current = new Map<string, Buffer>();
      touched.forEach((k, i) => {
        const v = values[i];
        if (v) current.set(k, v);
      });
      const lookup: MemberLookup = { get: (k) => (current.has(k) ? decodeMember(current.get(k)!) : undefined), size };
      const diff = diffPresence(lookup, changes, options.maxMembers);
      const expectations = touched.flatMap((k) => [k, current.get(k) ?? '']);
      const added = diff.upserts.filter(([k]) => !current.has(k)).length;
      const outcome = await this.cas(
        key,
        diff.effective.length > 0 ? { ...input, presence: diff.effective } : null,
        options,
        added,
        expectations,
        diff.upserts,
        diff.removals,
      );
      if (outcome !== 'retry') return outcome;
    }
    throw new AblyError(Err.internalChannel, 'Presence update could not complete under contention; retry');
  }

  /** Runs the presence compare-and-set; 'retry' when a member changed since it was read. */
  private async cas(
    key: ChannelKey,
    event: ChannelEventInput | null,
    options: PresenceOptions,
    added: number,
    expectations: (string | Buffer)[],
    upserts: [string, PresenceMessage][],
    removals: string[],
  ): Promise<ChannelEvent | null | 'retry'> {
    const [meta, log, members] = this.layout.channel(key);
    const { appId, name } = splitChannelKey(key);
    const reply = (await PRESENCE_SCRIPT.run(
      this.cmd,
      [meta, log, members, this.activeKey(appId)],
      [
        ...this.layout.limits(),
        this.layout.topic(key),
        randomAlnum(8),
        event ? encodeEventBody(event) : '',
        options.maxMembers,
        added,
        name,
        options.connection ? this.connectionKey(options.connection.id) : '',
        options.connection?.msgSerial ?? 0,
        this.nodeId,
        expectations.length / 2,
        ...expectations,
        upserts.length,
        ...upserts.flatMap(([k, m]) => [k, encodeMember(m)]),
        removals.length,
        ...removals,
      ],
    )) as Buffer[];
    const status = text(reply[0]);
    checkNotMoved(status);
    if (status === 'retry') return 'retry';
    if (status === 'full')
      throw new AblyError(
        Err.presenceMemberLimit,
        `This channel has reached its limit of ${options.maxMembers} presence members`,
      );
    if (status === 'noop' || !event) return null;
    return eventFrom(event, reply);
  }

  async leaveConnection(key: ChannelKey, connectionId: string, timestamp: number): Promise<ChannelEvent | null> {
    const [, , members] = this.layout.channel(key);
    for (let attempt = 0; attempt < PRESENCE_ATTEMPTS; attempt++) {
      const pairs = (await CONNECTION_MEMBERS_SCRIPT.run(
        this.cmd,
        [members],
        [memberKey(connectionId, '')],
      )) as Buffer[];
      if (pairs.length === 0) return null;
      const keys: string[] = [];
      const leaving: PresenceMessage[] = [];
      const expectations: (string | Buffer)[] = [];
      for (let i = 0; i < pairs.length; i += 2) {
        const k = text(pairs[i]);
        keys.push(k);
        leaving.push(decodeMember(pairs[i + 1]!));
        expectations.push(k, pairs[i + 1]!);
      }
      const event: ChannelEventInput = {
        kind: 'presence',
        timestamp,
        presence: synthesiseLeaves(leaving, timestamp, randomAlnum(12)),
      };
      const outcome = await this.cas(key, event, { maxMembers: Number.MAX_SAFE_INTEGER }, 0, expectations, [], keys);
      if (outcome !== 'retry') return outcome;
    }
    throw new AblyError(Err.internalChannel, 'Presence leave could not complete under contention');
  }

  async members(key: ChannelKey): Promise<PresenceMessage[]> {
    const [, , members] = this.layout.channel(key);
    return (await this.cmd.hvalsBuffer(members)).map(decodeMember);
  }
}
