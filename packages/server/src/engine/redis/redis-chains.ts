/**
 * Message chains in Redis (message-chain.ts): updates, deletes, appends and annotations of a
 * message are a compare-and-set over the channel's chain hash, like presence over its member hash.
 * The node reads the message and the event holding its latest form (MESSAGE), works out the change,
 * and AMEND appends its events only if that event is still the latest one; a concurrent change
 * elsewhere means read again and recompute.
 */
import type { Redis } from 'ioredis';
import { randomAlnum } from '../../util/ids.js';
import { parseMessageSerial } from '../serial.js';
import {
  splitChannelKey,
  type AmendInput,
  type AmendOutcome,
  type ChannelKey,
  type MessageChain,
  type StoredMessage,
} from '../channel-store.js';
import { chainOf, publishedMessage, storedMessage } from '../message-chain.js';
import { decodeEntry, encodeEventBody } from './codec.js';
import { AMEND, MESSAGE, READ } from './lua.js';
import { checkNotMoved, eventFrom, text, type RedisLayout } from './redis-layout.js';
import { LuaScript } from './script.js';

const scripts = {
  amend: new LuaScript(AMEND),
  message: new LuaScript(MESSAGE),
  read: new LuaScript(READ),
};

/** Most log entries a chain read returns (every entry after the message, up to the log's bound). */
const CHAIN_READ_LIMIT = 1_000_000;

export class RedisChains {
  constructor(
    private readonly cmd: Redis,
    private readonly layout: RedisLayout,
    private readonly activeKey: (appId: string) => string,
    private readonly connectionKey: (connectionId: string) => string,
    private readonly nodeId: string,
  ) {}

  async message(key: ChannelKey, serial: string): Promise<StoredMessage | null> {
    const at = parseMessageSerial(serial);
    if (!at) return null;
    const [meta, log, , chains] = this.layout.channel(key);
    const reply = (await scripts.message.run(
      this.cmd,
      [meta, log, chains],
      [...this.layout.limits(), at.epoch, at.seq, serial],
    )) as Buffer[];
    if (text(reply[0]) !== 'ok') return null;
    const token = Number(text(reply[1]));
    const original = publishedMessage(decodeEntry(reply[2]!, at.epoch, at.seq), at.index);
    if (!original) return null;
    const latest = token === at.seq ? undefined : decodeEntry(reply[3]!, at.epoch, token);
    return storedMessage(original, at.seq, latest);
  }

  async amend(key: ChannelKey, input: AmendInput): Promise<AmendOutcome> {
    const at = parseMessageSerial(input.serial);
    if (!at) return 'gone';
    const [meta, log, , chains] = this.layout.channel(key);
    const { appId, name } = splitChannelKey(key);
    const retention = input.retention;
    const reply = (await scripts.amend.run(
      this.cmd,
      [meta, log, chains, this.activeKey(appId)],
      [
        ...this.layout.limits(),
        this.layout.topic(key),
        at.epoch,
        name,
        retention ? retention.maxCount : '',
        retention ? retention.maxAge : '',
        input.connection ? this.connectionKey(input.connection.id) : '',
        input.connection?.msgSerial ?? 0,
        this.nodeId,
        input.serial,
        at.seq,
        input.token,
        ...input.events.map(encodeEventBody),
      ],
    )) as Buffer[];
    const status = text(reply[0]);
    checkNotMoved(status);
    if (status === 'retry' || status === 'gone') return status;
    return { events: input.events.map((e, i) => eventFrom(e, reply, i)) };
  }

  async chain(key: ChannelKey, serial: string): Promise<MessageChain | null> {
    const at = parseMessageSerial(serial);
    if (!at) return null;
    const reply = (await scripts.read.run(this.cmd, this.layout.channel(key), [
      ...this.layout.limits(),
      randomAlnum(8),
      'from',
      at.epoch,
      at.seq - 1,
      CHAIN_READ_LIMIT,
      '0',
    ])) as [Buffer, Buffer, Buffer, Buffer, Buffer[], Buffer[]];
    if (text(reply[3]) !== 'complete' || text(reply[0]) !== at.epoch) return null;
    const events = reply[5].map((e, i) => decodeEntry(e, at.epoch, at.seq + i));
    return chainOf(events, serial, at.index);
  }
}
