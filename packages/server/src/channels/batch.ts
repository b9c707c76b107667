/**
 * Building the ProtocolMessages that carry channel events to subscribers. Consecutive events of one
 * kind go out as one ProtocolMessage whose channelSerial is that of the last event (TR4c); every
 * item carries its own id, connectionId, clientId, timestamp and serial, so nothing depends on the
 * ProtocolMessage-level defaults (TM2a/c/f) that a batch of several publishes cannot share.
 */
import { Action, Flag, type ProtocolMessage } from '@encke/protocol';
import type { ChannelEvent, EventKind } from '../engine/channel-store.js';

/** The channel mode an attachment needs to be sent events of each kind. */
export const MODE_FOR_KIND: Readonly<Record<EventKind, number>> = {
  message: Flag.SUBSCRIBE,
  presence: Flag.PRESENCE_SUBSCRIBE,
  annotation: Flag.ANNOTATION_SUBSCRIBE,
};

function protocolMessageOf(channel: string, events: readonly ChannelEvent[]): ProtocolMessage {
  const channelSerial = events[events.length - 1]!.serial;
  switch (events[0]!.kind) {
    case 'message':
      return { action: Action.MESSAGE, channel, channelSerial, messages: flatten(events, 'messages') };
    case 'presence':
      return { action: Action.PRESENCE, channel, channelSerial, presence: flatten(events, 'presence') };
    case 'annotation':
      return { action: Action.ANNOTATION, channel, channelSerial, annotations: flatten(events, 'annotations') };
  }
}

export function eventsToProtocolMessage(channel: string, events: readonly ChannelEvent[]): ProtocolMessage {
  const first = events[0]!;
  const last = events[events.length - 1]!;
  const pm = protocolMessageOf(channel, events);
  if (events.length === 1) {
    if (first.id !== undefined) pm.id = first.id;
    if (first.connectionId !== undefined) pm.connectionId = first.connectionId;
  }
  pm.timestamp = last.timestamp;
  return pm;
}

function flatten<K extends 'messages' | 'presence' | 'annotations'>(
  events: readonly ChannelEvent[],
  field: K,
): NonNullable<ChannelEvent[K]> {
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
