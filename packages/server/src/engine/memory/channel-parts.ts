/**
 * The parts of a memory channel (memory-channel.ts) that are not its log: the epoch every channel of
 * this process derives its own from, the rarely used state, and the serials a publish answers with.
 */
import type { Message, PresenceMessage } from '@encke/protocol';
import { randomAlnum } from '../../util/ids.js';

export const NO_MEMBERS: ReadonlyMap<string, PresenceMessage> = new Map<string, PresenceMessage>();

export interface SeenId {
  serial: string;
  at: number;
}

/** Message id → serial of recent idempotent publishes, oldest first, and the window they are kept for. */
export interface SeenIds {
  readonly ids: Map<string, SeenId>;
  window: number;
}

/**
 * Changed messages (message-chain.ts): serial → seq of the event holding the message's latest form
 * (null once no original is left), and the chain events in the log (while there are some, history
 * and rewind read through historyView).
 */
export interface Changes {
  chains: Map<string, number> | null;
  events: number;
}

/**
 * The first part of every memory channel's epoch: one random string per process, so that a
 * channel's epoch is this and the channel's number (`epochOf`), kept as a small integer instead of
 * a string of its own per channel (bench S3). Unique across restarts by the random part, and
 * within one process by the number (a channel forgotten and made again gets a new one).
 */
const EPOCH_PREFIX = randomAlnum(8);
/** The last channel number handed out (by every store of this process). */
let channelsMade = 0;

/** A new channel's number (its epoch: `epochOf`). */
export function nextChannelNumber(): number {
  return ++channelsMade;
}

/** The epoch of channel number `generation`: `[A-Za-z0-9]` only, as serials require. */
export function epochOf(generation: number): string {
  return EPOCH_PREFIX + generation.toString(36);
}

/** A channel's rarely used state (presence set, idempotency window, changed messages), made by the first of them. */
export class ChannelExtras {
  members: Map<string, PresenceMessage> | null = null;
  seenIds: SeenIds | null = null;
  changes: Changes | null = null;
}

/** One serial per input message: its own, or that of the earlier publish it duplicates (an index loop: no closure per publish). */
export function serialsOf(
  messages: readonly Message[] | undefined,
  dupes: readonly (string | undefined)[] | null,
): string[] {
  if (!messages) return [];
  const serials = new Array<string>(messages.length);
  for (let i = 0; i < messages.length; i++) serials[i] = dupes?.[i] ?? messages[i]!.serial!;
  return serials;
}
