/**
 * A message's chain: what happens to a published message afterwards (Ably docs,
 * messages/updates-deletes and messages/annotations). The log keeps every change as an event of
 * its own, after the original, so that a subscriber (and a resume) sees exactly the changes in
 * order, while history, rewind and `getMessage` see each message as it now stands, in the place of
 * the original. Shared by every engine, like history.ts.
 *
 * - An update, delete or append is a message event with one message: `serial` = the changed
 *   message's serial, `action` 1, 2 or 5, `version.serial` = this event's message serial (a new
 *   version; filled in by `stampSerials` when the event has its place in the log), and an `id` of
 *   its own (the message keeps the original's).
 * - An append delivers the fragment; the message as it now stands (data accumulated, action
 *   update, as Ably's rewind and history show it) is the event's `full`.
 * - Annotations are an annotation event, followed by a summary: a message event with action 4
 *   carrying the message's new `annotations.summary` (its `full` is the whole message with it).
 *
 * Each engine records, per changed message, the seq of the last event of its chain: the message's
 * latest form is that event's, and a change applies only if it is still the one it was computed
 * from (`amend`'s compare-and-set).
 */
import { MessageAction, isMutationAction, type Annotation, type Message } from '@encke/protocol';
import type { ChannelEvent, ChannelEventInput, MessageChain, StoredMessage } from './channel-store.js';
import { messageSerial } from './serial.js';

/** Whether `event` changes an earlier message (update, delete, append, summary) rather than publishing new ones. */
export function isChainEvent(event: ChannelEventInput): boolean {
  if (event.kind !== 'message') return false;
  const action = event.messages?.[0]?.action;
  return action !== undefined && action !== MessageAction.CREATE;
}

/**
 * Message `original` as it stands after chain event `event`. What subscribers got has an id of its
 * own (its delivery's: delta chains and logs tell deliveries apart by id); the message keeps the
 * original's.
 */
export function latestForm(event: ChannelEventInput, original: Message): Message {
  const m = event.full ?? event.messages![0]!;
  return m.id === original.id ? m : { ...m, id: original.id };
}

/**
 * Fills in the serials an event takes from its place in the log: each published message's
 * `serial`, each annotation's `serial`, and the `version.serial` of an update, delete or append
 * (a summary keeps the version it had).
 */
export function stampSerials(event: ChannelEvent): void {
  const messages = event.messages;
  if (messages) {
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      if (m.action === undefined || m.action === MessageAction.CREATE) {
        m.serial = messageSerial(event.serial, i);
      } else if (isMutationAction(m.action)) {
        const version = messageSerial(event.serial, i);
        m.version = { ...m.version, serial: version };
        if (i === 0 && event.full) event.full.version = { ...event.full.version, serial: version };
      }
    }
  }
  const annotations = event.annotations;
  if (annotations) for (let i = 0; i < annotations.length; i++) annotations[i]!.serial = messageSerial(event.serial, i);
}

/** Index of the event at `seq` in `events` (ascending seqs), or -1. */
export function indexOfSeq(events: readonly ChannelEvent[], seq: number): number {
  let lo = 0;
  let hi = events.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const s = events[mid]!.seq;
    if (s === seq) return mid;
    if (s < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Message `index` of publish event `event`, if it is one (a chain event publishes nothing new). */
export function publishedMessage(event: ChannelEvent | undefined, index: number): Message | undefined {
  if (!event || event.kind !== 'message' || isChainEvent(event)) return undefined;
  return event.messages?.[index];
}

/** A message's stored state from its original event and the event holding its latest form (if changed). */
export function storedMessage(
  original: Message,
  originalSeq: number,
  latest: ChannelEvent | undefined,
): StoredMessage | null {
  if (!latest) return { original, latest: original, token: originalSeq };
  return isChainEvent(latest) ? { original, latest: latestForm(latest, original), token: latest.seq } : null;
}

/**
 * The log as history and rewind see it: publish events only, each message replaced by its latest
 * form; presence and annotation events as they are. The same array when nothing was ever changed.
 */
export function historyView(events: readonly ChannelEvent[]): readonly ChannelEvent[] {
  let latest: Map<string, ChannelEvent> | null = null;
  for (const e of events) if (isChainEvent(e)) (latest ??= new Map()).set(e.messages![0]!.serial!, e);
  if (!latest) return events;
  const out: ChannelEvent[] = [];
  for (const e of events) {
    if (e.kind !== 'message') out.push(e);
    else if (!isChainEvent(e)) out.push(withLatest(e, latest));
  }
  return out;
}

function withLatest(event: ChannelEvent, latest: ReadonlyMap<string, ChannelEvent>): ChannelEvent {
  const messages = event.messages;
  if (!messages) return event;
  let replaced: Message[] | null = null;
  for (let i = 0; i < messages.length; i++) {
    const last = latest.get(messages[i]!.serial!);
    if (last) (replaced ??= [...messages])[i] = latestForm(last, messages[i]!);
  }
  return replaced ? { ...event, messages: replaced } : event;
}

/** The newest `count` publish events (all newer than `since` when given), oldest first, as history shows them. */
export function lastPublished(events: readonly ChannelEvent[], count: number, since?: number): ChannelEvent[] {
  const view = historyView(events);
  const out: ChannelEvent[] = [];
  for (let i = view.length - 1; i >= 0 && out.length < count; i--) {
    const event = view[i]!;
    if (since !== undefined && event.timestamp < since) break;
    if (event.kind === 'message') out.push(event);
  }
  return out.reverse();
}

/**
 * The chain of message `serial` published by `events[0]` (the original's event, then everything
 * after it): its versions (the original, then each update, delete and append as the message stood
 * after it) and its annotations, oldest first.
 */
export function chainOf(events: readonly ChannelEvent[], serial: string, index: number): MessageChain | null {
  const original = publishedMessage(events[0], index);
  if (!original) return null;
  const versions: Message[] = [original];
  const annotations: Annotation[] = [];
  for (let i = 1; i < events.length; i++) {
    const e = events[i]!;
    if (e.kind === 'annotation') {
      for (const a of e.annotations ?? []) if (a.messageSerial === serial) annotations.push(a);
    } else if (isChainEvent(e)) {
      const m = e.messages![0]!;
      if (m.serial === serial && isMutationAction(m.action)) versions.push(latestForm(e, original));
    }
  }
  return { versions, annotations };
}
