/** Decoding presence messages: used by presence and presence history, both loaded on demand. */
import type { PresenceMessage as WirePresence } from '@encke/protocol/types';
import type { Kit } from '../kit.js';
import type { PresenceActionName, PresenceMessage } from './message.js';

export const PRESENCE_ACTIONS: readonly PresenceActionName[] = ['absent', 'present', 'enter', 'leave', 'update'];

export function decodePresence(kit: Kit, p: WirePresence): PresenceMessage {
  const { data, encoding } = kit.decodeData(p.data, p.encoding);
  const out: PresenceMessage = {
    ...p,
    action: PRESENCE_ACTIONS[p.action] ?? 'present',
    clientId: p.clientId ?? '',
    connectionId: p.connectionId ?? '',
    data,
  };
  if (encoding) out.encoding = encoding;
  else delete out.encoding;
  return out;
}
