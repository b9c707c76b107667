/**
 * Building the ProtocolMessages that carry channel events to subscribers. Consecutive events of one
 * kind go out as one ProtocolMessage whose channelSerial is that of the last event (TR4c); every
 * item carries its own id, connectionId, clientId, timestamp and serial, so nothing depends on the
 * ProtocolMessage-level defaults (TM2a/c/f) that a batch of several publishes cannot share.
 */
import { Action, type ProtocolMessage } from '@encke/protocol';
import type { ChannelEvent } from '../engine/channel-store.js';

export function eventsToProtocolMessage(channel: string, events: readonly ChannelEvent[]): ProtocolMessage {
  const first = events[0]!;
  const last = events[events.length - 1]!;
  const pm: ProtocolMessage =
    first.kind === 'message'
      ? { action: Action.MESSAGE, channel, channelSerial: last.serial, messages: flatten(events, 'messages') }
      : { action: Action.PRESENCE, channel, channelSerial: last.serial, presence: flatten(events, 'presence') };
  if (events.length === 1) {
    if (first.id !== undefined) pm.id = first.id;
    if (first.connectionId !== undefined) pm.connectionId = first.connectionId;
  }
  pm.timestamp = last.timestamp;
  return pm;
}

function flatten<K extends 'messages' | 'presence'>(events: readonly ChannelEvent[], field: K): NonNullable<ChannelEvent[K]> {
  if (events.length === 1) return events[0]![field] ?? ([] as NonNullable<ChannelEvent[K]>);
  const out: unknown[] = [];
  for (const e of events) {
    const items = e[field];
    if (items) for (const item of items) out.push(item);
  }
  return out as NonNullable<ChannelEvent[K]>;
}

/** Splits events into runs of one kind, keeping order. */
export function runsByKind(events: readonly ChannelEvent[]): ChannelEvent[][] {
  const runs: ChannelEvent[][] = [];
  let current: ChannelEvent[] | undefined;
  for (const e of events) {
    if (!current || current[0]!.kind !== e.kind) runs.push((current = []));
    current.push(e);
  }
  return runs;
}
