/**
 * A channel's presence set (RTP2): members by connectionId + clientId, the newest message of each
 * winning (RTP2b), and the SYNC that rebuilds it after an attach (members not seen in a completed
 * sync have left, RTP19).
 */
import type { PresenceMessage } from './message.js';

function isSynthesized(m: PresenceMessage): boolean {
  return !m.id || !m.id.startsWith(`${m.connectionId}:`);
}

/** RTP2b: is `a` newer than `b`? By msgSerial and index when both come from their connection, else by timestamp. */
export function newer(a: PresenceMessage, b: PresenceMessage): boolean {
  if (isSynthesized(a) || isSynthesized(b)) return (a.timestamp ?? 0) >= (b.timestamp ?? 0);
  const [, as = '0', ai = '0'] = (a.id ?? '').split(':');
  const [, bs = '0', bi = '0'] = (b.id ?? '').split(':');
  return Number(as) !== Number(bs) ? Number(as) > Number(bs) : Number(ai) >= Number(bi);
}

export class PresenceMap {
  private members = new Map<string, PresenceMessage>();
  private residual: Set<string> | undefined;
  syncComplete = true;

  private static key(m: PresenceMessage): string {
    return `${m.connectionId}:${m.clientId}`;
  }

  /** Applies a message; true if it changed the set (and so is to be emitted). */
  put(m: PresenceMessage): boolean {
    const key = PresenceMap.key(m);
    this.residual?.delete(key);
    const existing = this.members.get(key);
    if (existing && !newer(m, existing)) return false;
    if (m.action === 'leave' || m.action === 'absent') {
      if (!existing) return false;
      this.members.delete(key);
      return true;
    }
    this.members.set(key, { ...m, action: 'present' });
    return true;
  }

  list(filter?: { clientId?: string; connectionId?: string }): PresenceMessage[] {
    const out: PresenceMessage[] = [];
    for (const m of this.members.values()) {
      if (filter?.clientId !== undefined && m.clientId !== filter.clientId) continue;
      if (filter?.connectionId !== undefined && m.connectionId !== filter.connectionId) continue;
      out.push(m);
    }
    return out;
  }

  startSync(): void {
    if (!this.residual) this.residual = new Set(this.members.keys());
    this.syncComplete = false;
  }

  /** Ends a sync; returns the members that were not in it, now gone, as LEAVE messages. */
  endSync(now: number): PresenceMessage[] {
    const gone: PresenceMessage[] = [];
    for (const key of this.residual ?? []) {
      const m = this.members.get(key);
      if (!m) continue;
      this.members.delete(key);
      gone.push({ ...m, action: 'leave', timestamp: now });
    }
    this.residual = undefined;
    this.syncComplete = true;
    return gone;
  }

  /** Empties the set (ATTACHED without HAS_PRESENCE, detach); returns the members as LEAVEs. */
  clear(now: number): PresenceMessage[] {
    this.residual = undefined;
    this.syncComplete = true;
    const gone = [...this.members.values()].map((m) => ({ ...m, action: 'leave' as const, timestamp: now }));
    this.members.clear();
    return gone;
  }
}
