/**
 * The rules of a channel's presence set, shared by every engine so that they cannot drift apart:
 * members are keyed by connectionId + clientId; an ENTER of a present member is broadcast as UPDATE
 * (Ably: "entering when already entered is treated as an update"); re-sending the change a member
 * already has (same id) is a no-op; a LEAVE of an absent member is a no-op.
 */
import { AblyError, Err, PresenceAction, type PresenceMessage } from '@encke/protocol';

export function memberKey(connectionId: string | undefined, clientId: string | undefined): string {
  return `${connectionId ?? ''}\u0000${clientId ?? ''}`;
}

/** A stored member: the item that made it present, with action PRESENT. */
export function asPresent(item: PresenceMessage): PresenceMessage {
  return { ...item, action: PresenceAction.PRESENT };
}

/** Minimal view of a member set that the rules need (a Map in memory, a hash in Redis). */
export interface MemberLookup {
  get(key: string): PresenceMessage | undefined;
  readonly size: number;
}

export interface PresenceDiff {
  /** The changes to broadcast, with effective actions. */
  effective: PresenceMessage[];
  /** Members to store (key → PRESENT item) and to delete. */
  upserts: [string, PresenceMessage][];
  removals: string[];
}

/** Works out what `changes` do to a member set, without touching it. Throws 91003 past `maxMembers`. */
export function diffPresence(
  members: MemberLookup,
  changes: readonly PresenceMessage[],
  maxMembers: number,
): PresenceDiff {
  const diff: PresenceDiff = { effective: [], upserts: [], removals: [] };
  const pending = new Map<string, PresenceMessage | null>();
  let added = 0;
  for (const item of changes) {
    const key = memberKey(item.connectionId, item.clientId);
    const existing = pending.has(key) ? (pending.get(key) ?? undefined) : members.get(key);
    if (item.action === PresenceAction.LEAVE) {
      if (!existing) continue;
      pending.set(key, null);
      if (!members.get(key)) added--;
      const leave: PresenceMessage = { ...item };
      if (leave.data === undefined && existing.data !== undefined) {
        leave.data = existing.data;
        if (existing.encoding !== undefined) leave.encoding = existing.encoding;
      }
      diff.effective.push(leave);
      continue;
    }
    if (existing && existing.id !== undefined && existing.id === item.id) continue;
    if (!existing) added++;
    pending.set(key, item);
    diff.effective.push({ ...item, action: existing ? PresenceAction.UPDATE : PresenceAction.ENTER });
  }
  if (added > 0 && members.size + added > maxMembers) {
    throw new AblyError(
      Err.presenceMemberLimit,
      `This channel has reached its limit of ${maxMembers} presence members`,
    );
  }
  for (const [key, item] of pending) {
    if (item) diff.upserts.push([key, asPresent(item)]);
    else diff.removals.push(key);
  }
  return diff;
}

/** Server-synthesised LEAVEs for members whose connection is gone (RTP2b1: compared by timestamp). */
export function synthesiseLeaves(
  members: Iterable<PresenceMessage>,
  timestamp: number,
  idPrefix: string,
): PresenceMessage[] {
  const leaves: PresenceMessage[] = [];
  for (const m of members) {
    const leave: PresenceMessage = { action: PresenceAction.LEAVE, id: `${idPrefix}:0:${leaves.length}`, timestamp };
    if (m.clientId !== undefined) leave.clientId = m.clientId;
    if (m.connectionId !== undefined) leave.connectionId = m.connectionId;
    if (m.data !== undefined) leave.data = m.data;
    if (m.encoding !== undefined) leave.encoding = m.encoding;
    leaves.push(leave);
  }
  return leaves;
}
