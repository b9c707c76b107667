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
  return { name, request, state: 'detached', attachedPm: undefined, serial: undefined, members: new Map(), residual: undefined };
}

/** Keeps the channel's presence set (for tabs that join later), from PRESENCE and SYNC. */
export function track(kit: Kit, ch: Channel, pm: ProtocolMessage): void {
  const { Action, PresenceAction } = kit;
  const sync = pm.action === Action.SYNC;
  if (sync) ch.residual ??= new Set(ch.members.keys());
  (pm.presence ?? []).forEach((item, i) => {
    const m: WirePresence = { ...item, connectionId: item.connectionId ?? pm.connectionId ?? '', id: item.id ?? `${pm.id ?? ''}:${i}` };
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
