/**
 * Realtime publish: MESSAGE from the client, answered by ACK `{msgSerial, count, res}` or NACK
 * `{msgSerial, count, error}` (protocol fact sheet §3.3).
 *
 * Exactly once: a msgSerial at or below the highest one processed is a re-send after a resume
 * (RTN19a2); it gets the same answer again and is not published twice. Messages with their own
 * `id` are also deduplicated by id on the channel within `idempotencyWindow`.
 */
import { AblyError, Err, MessageAction, dataSize, type ErrorInfo, type Message, type ProtocolMessage, type PayloadError } from '@encke/protocol';
import { checkItemClientId } from '../auth/authenticate.js';
import { allows } from '../auth/capability.js';
import { validateChannelName } from '../channels/names.js';
import { channelKey } from '../engine/engine.js';
import type { Session } from './session.js';

/** The answer given to one msgSerial: serials (ACK) or an error (NACK). */
export interface AckRecord {
  msgSerial: number;
  serials?: (string | null)[];
  error?: ErrorInfo;
}

/** Size of a message as the SDKs count it (TO3l8): name, data, clientId and extras. */
export function messageSize(msg: Message): number {
  let size = dataSize(msg.data);
  if (msg.name !== undefined) size += Buffer.byteLength(msg.name, 'utf8');
  if (msg.clientId !== undefined) size += Buffer.byteLength(msg.clientId, 'utf8');
  if (msg.extras !== undefined) size += Buffer.byteLength(JSON.stringify(msg.extras), 'utf8');
  return size;
}

export function checkMessagesSize(messages: readonly Message[], max: number): void {
  let total = 0;
  for (const m of messages) total += messageSize(m);
  if (total > max) throw new AblyError(Err.maxMessageSizeExceeded, `Message size ${total} exceeds the maximum of ${max} bytes`);
}

/**
 * Claims `msgSerial` for processing. False when it is a re-send: the earlier answer has been sent
 * again and the caller must do nothing more.
 */
export function claimMsgSerial(session: Session, msgSerial: number | undefined, action: number): msgSerial is number {
  if (msgSerial === undefined) throw new AblyError(Err.protocolError, `Action ${action} without msgSerial`);
  if (msgSerial > session.msgSerialHigh) {
    session.msgSerialHigh = msgSerial;
    return true;
  }
  session.acknowledge(session.previousAck(msgSerial) ?? { msgSerial, serials: [] });
  return false;
}

/** NACKs a publish whose messages did not validate, keeping the exactly-once bookkeeping. */
export function rejectPayload(session: Session, err: PayloadError): void {
  if (claimMsgSerial(session, err.envelope.msgSerial, err.envelope.action)) session.nack(err.envelope.msgSerial!, err);
}

export async function publish(session: Session, pm: ProtocolMessage): Promise<void> {
  if (!claimMsgSerial(session, pm.msgSerial, pm.action)) return;
  const msgSerial = pm.msgSerial!;
  try {
    const serials = await publishMessages(session, pm, msgSerial);
    session.acknowledge({ msgSerial, serials });
  } catch (err) {
    const e = AblyError.from(err);
    if (e.statusCode >= 500) session.ctx.logger.error({ err, connectionId: session.id, channel: pm.channel }, 'publish failed');
    session.nack(msgSerial, e);
  }
}

async function publishMessages(session: Session, pm: ProtocolMessage, msgSerial: number): Promise<string[]> {
  const ctx = session.ctx;
  const name = pm.channel;
  if (name === undefined) throw new AblyError(Err.invalidChannelName, 'MESSAGE without a channel');
  validateChannelName(name, ctx.options.maxChannelNameLength);
  if (!allows(session.auth.capability, name, 'publish')) {
    throw new AblyError(Err.capabilityDenied, `Permission denied: publish not permitted on channel "${name}"`);
  }
  const messages = pm.messages;
  if (!messages || messages.length === 0) throw new AblyError(Err.badRequest, 'MESSAGE without messages');
  checkMessagesSize(messages, ctx.options.maxMessageSize);
  const now = ctx.clock.now();
  let withIds = false;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.action !== undefined && m.action !== MessageAction.CREATE) {
      throw new AblyError(Err.mutableMessagesDisabled, 'Message updates, deletes and appends are not enabled on this channel');
    }
    if (m.id !== undefined) withIds = true;
    else m.id = `${session.id}:${msgSerial}:${i}`;
    const clientId = checkItemClientId(session.auth, session.clientId, m.clientId);
    if (clientId !== undefined) m.clientId = clientId;
    m.connectionId = session.id;
    delete m.connectionKey;
    m.timestamp ??= now;
    m.action = MessageAction.CREATE;
  }
  const outcome = await ctx.engine.channels.publish(
    channelKey(session.app.id, name),
    { kind: 'message', id: `${session.id}:${msgSerial}`, connectionId: session.id, timestamp: now, messages },
    withIds ? { idempotencyWindow: ctx.options.idempotencyWindow } : undefined,
  );
  return outcome.serials;
}
