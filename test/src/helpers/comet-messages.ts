import { Action, type ProtocolMessage } from '@encke/protocol';
import type { RawClient } from './raw-ws.js';

/** Publishes `data` on `channel` from a WebSocket client and waits for the ACK. */
export async function publishAcked(
  publisher: RawClient,
  channel: string,
  msgSerial: number,
  data: string,
): Promise<void> {
  publisher.send({ action: Action.MESSAGE, channel, msgSerial, messages: [{ name: 'n', data }] });
  await publisher.next(Action.ACK, 5000, (pm) => pm.msgSerial === msgSerial);
}

/** The data of every MESSAGE in `pms`, in order, as strings. */
export function messageData(pms: readonly ProtocolMessage[]): string[] {
  return pms
    .filter((pm) => pm.action === Action.MESSAGE)
    .flatMap((pm) => (pm.messages ?? []).map((m) => String(m.data)));
}
