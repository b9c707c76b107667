/**
 * What the fan-out tests (fan-out-writes) use: a publish by a raw client, whether a
 * frame carries a message, and frames sent in one TCP write so that the server handles them in one tick.
 */
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { Action, readField, type ProtocolMessage } from '@encke/protocol';
import type { RawClient } from './raw-ws.js';

/** A MESSAGE of one message `data` on `channel`. */
export const publishOn = (channel: string, data: string, msgSerial: number): ProtocolMessage => ({
  action: Action.MESSAGE,
  channel,
  msgSerial,
  messages: [{ name: 'n', data }],
});

/** Whether `pm` carries a message with `data`. */
export const carries = (pm: ProtocolMessage, data: string): boolean =>
  pm.messages?.some((m) => m.data === data) ?? false;

/** The ws client's TCP socket (ws keeps it private, in `_socket`): read and checked, not cast. */
export function tcpSocketOf(client: RawClient): Socket {
  const socket = readField(client.ws, '_socket');
  assert.ok(socket instanceof Socket, "the ws client's socket");
  return socket;
}

/** Sends `pms` in one TCP write: the server reads them in one go and handles them in one tick. */
export function sendTogether(client: RawClient, pms: ProtocolMessage[]): void {
  const socket = tcpSocketOf(client);
  socket.cork();
  for (const pm of pms) client.send(pm);
  socket.uncork();
}
