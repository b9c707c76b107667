/**
 * A log event made from its input and its place in the log. Written field by field rather than as
 * `{ ...input, seq, serial }`: V8 gave every such spread a hidden class of its own (three new maps
 * per publish, ~0.8 KB, bench S7: a publish's garbage), and an event read through many hidden
 * classes makes every read of its fields in the fan-out a megamorphic lookup. Events made here
 * share a few hidden classes, one per set of fields present. Only fields present in the input
 * are set (`'presence' in event` and key lists stay as they were), in ChannelEventInput's order.
 */
import type { ChannelEvent, ChannelEventInput } from './channel-store.js';

export function storedEvent(input: ChannelEventInput, seq: number, serial: string): ChannelEvent {
  const { kind, timestamp, id, connectionId, messages } = input;
  // A realtime publish, the log's usual event: one literal holds every field in the object itself,
  // where adding three fields to a smaller one made a property array too (40 B more kept per event).
  if (
    id !== undefined &&
    connectionId !== undefined &&
    messages !== undefined &&
    input.presence === undefined &&
    input.annotations === undefined &&
    input.full === undefined
  )
    return { kind, timestamp, seq, serial, id, connectionId, messages };
  const event: ChannelEvent = { kind, timestamp, seq, serial };
  if (id !== undefined) event.id = id;
  if (connectionId !== undefined) event.connectionId = connectionId;
  if (messages !== undefined) event.messages = messages;
  if (input.presence !== undefined) event.presence = input.presence;
  if (input.annotations !== undefined) event.annotations = input.annotations;
  if (input.full !== undefined) event.full = input.full;
  return event;
}
