/**
 * Where things live in Redis (keys, pub/sub topics), the log limits every script takes, and how a
 * script's reply becomes a channel event.
 */
import { AblyError, Err } from '@encke/protocol';
import { formatSerial } from '../serial.js';
import { stampSerials } from '../message-chain.js';
import { storedEvent } from '../stored-event.js';
import type { Clock } from '../../util/clock.js';
import type { ChannelEvent, ChannelEventInput, ChannelKey } from '../channel-store.js';

export function text(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

/**
 * A write script's answer when the connection it was made for belongs to another node now: the
 * write did not land (the client re-sends it to the node that took the connection over).
 */
export function checkNotMoved(status: string): void {
  if (status === 'moved') throw new AblyError(Err.superseded, 'Connection resumed on another node');
}

export interface LayoutOptions {
  prefix: string;
  clock: Clock;
  logMaxCount: number;
  logMaxAge: number;
  channelRetention: number;
}

export class RedisLayout {
  constructor(private readonly o: LayoutOptions) {}

  get prefix(): string {
    return this.o.prefix;
  }

  /**
   * A channel's meta hash, log list, presence hash and chain hash (changed message serial → seq of
   * the event holding its latest form, message-chain.ts), under one hash tag.
   */
  channel(key: ChannelKey): [meta: string, log: string, members: string, chains: string] {
    const base = `${this.o.prefix}{${key}}`;
    return [`${base}:m`, `${base}:l`, `${base}:p`, `${base}:x`];
  }

  topic(key: ChannelKey): string {
    return `${this.o.prefix}ev:${key}`;
  }

  /** now, maxCount, maxAge, key retention: the first arguments of every channel script. */
  limits(): number[] {
    return [this.o.clock.now(), this.o.logMaxCount, this.o.logMaxAge, this.o.channelRetention];
  }
}

/** The event a write script appended, from its reply `{'ok', epoch, seq, t}` (`offset` events after the first it appended). */
export function eventFrom(input: ChannelEventInput, reply: Buffer[], offset = 0): ChannelEvent {
  const epoch = text(reply[1]);
  const seq = Number(text(reply[2])) + offset;
  const event = storedEvent(input, seq, formatSerial(epoch, seq));
  event.timestamp = Number(text(reply[3]));
  stampSerials(event);
  return event;
}
