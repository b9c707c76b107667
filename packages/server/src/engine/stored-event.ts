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
  const event: ChannelEvent = { kind: input.kind, timestamp: input.timestamp, seq, serial };
  if (input.id !== undefined) event.id = input.id;
  if (input.connectionId !== undefined) event.connectionId = input.connectionId;
  if (input.messages !== undefined) event.messages = input.messages;
  if (input.presence !== undefined) event.presence = input.presence;
  if (input.annotations !== undefined) event.annotations = input.annotations;
  if (input.full !== undefined) event.full = input.full;
  return event;
}
