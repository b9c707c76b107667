/** A channel as the hub has it upstream: its attachment, where it has got to, its presence set. */
import type { PresenceMessage as WirePresence, ProtocolMessage } from '@encke/protocol/types';
import type { Kit } from '../kit.js';

export interface Channel {
  readonly name: string;
  /** The ATTACH sent upstream (params, modes); `channelSerial` is set per attach. */
  request: ProtocolMessage;
  state: 'attaching' | 'attached' | 'detached';
  attachedPm: ProtocolMessage | undefined;
  /** The newest channelSerial seen upstream. */
  serial: string | undefined;
  /** The presence set, by connectionId:clientId, as wire items. */
  readonly members: Map<string, WirePresence>;
  /** Members not yet seen in a SYNC under way. */
  residual: Set<string> | undefined;
}

export function newChannel(name: string, request: ProtocolMessage): Channel {
  return {
    name,
    request,
    state: 'detached',
    attachedPm: undefined,
    serial: undefined,
    members: new Map(),
    residual: undefined,
  };
}

/** Keeps the channel's presence set (for tabs that join later), from PRESENCE and SYNC. */
export function track(kit: Kit, ch: Channel, pm: ProtocolMessage): void {
  const { Action, PresenceAction } = kit;
  const sync = pm.action === Action.SYNC;
  if (sync) ch.residual ??= new Set(ch.members.keys());
  (pm.presence ?? []).forEach((item, i) => {
    const m: WirePresence = {
      ...item,
      connectionId: item.connectionId ?? pm.connectionId ?? '',
      id: item.id ?? `${pm.id ?? ''}:${i}`,
    };
    if (m.timestamp === undefined && pm.timestamp !== undefined) m.timestamp = pm.timestamp;
    const key = `${m.connectionId}:${m.clientId ?? ''}`;
    ch.residual?.delete(key);
    if (m.action === PresenceAction.LEAVE || m.action === PresenceAction.ABSENT) ch.members.delete(key);
    else ch.members.set(key, m);
  });
  const cursor = pm.channelSerial?.slice(pm.channelSerial.indexOf(':') + 1);
  if (sync && !cursor) {
    for (const key of ch.residual ?? []) ch.members.delete(key);
    ch.residual = undefined;
  }
}

/**
 * Records which tabs hold each clientId on a channel (`held`: clientId → tab ids) after presence
 * `items` from a tab; true when every item is a LEAVE of a clientId another tab still holds, which
 * the hub then answers itself instead of sending it upstream.
 */
export function holdPresence(
  kit: Kit,
  held: Map<string, Set<string>>,
  tabId: string,
  tabClientId: string | undefined,
  items: WirePresence[],
): boolean {
  const { PresenceAction } = kit;
  let leaveHeld = items.length > 0;
  for (const item of items) {
    item.clientId ??= tabClientId;
    const id = item.clientId ?? '';
    const holders = held.get(id) ?? new Set<string>();
    held.set(id, holders);
    if (item.action === PresenceAction.LEAVE) holders.delete(tabId);
    else holders.add(tabId);
    if (item.action !== PresenceAction.LEAVE || holders.size === 0) leaveHeld = false;
    if (holders.size === 0) held.delete(id);
  }
  return leaveHeld;
}

/** A LEAVE of `clientId` on `channel`, as the hub sends it upstream for a tab. */
export function leaveMessage(kit: Kit, channel: string, clientId: string): ProtocolMessage {
  return { action: kit.Action.PRESENCE, channel, presence: [{ action: kit.PresenceAction.LEAVE, clientId }] };
}
