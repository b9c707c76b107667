/**
 * Realtime publish: MESSAGE from the client, answered by ACK `{msgSerial, count, res}` or NACK
 * `{msgSerial, count, error}` (protocol fact sheet §3.3).
 *
 * Exactly once: a msgSerial at or below the highest one processed is a re-send after a resume
 * (RTN19a2); it gets the same answer again and is not published twice. Messages with their own
 * `id` are also deduplicated by id on the channel within `idempotencyWindow`.
 */
import { AblyError, Err, type ErrorInfo, type ProtocolMessage, type PayloadError } from '@encke/protocol';
import { publishMessages as publishToChannel } from '../channels/publish.js';
import type { Session } from './session.js';

/** The answer given to one msgSerial: serials (ACK) or an error (NACK). */
export interface AckRecord {
  msgSerial: number;
  serials?: (string | null)[];
  error?: ErrorInfo;
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
  const name = pm.channel;
  if (name === undefined) throw new AblyError(Err.invalidChannelName, 'MESSAGE without a channel');
  const outcome = await publishToChannel(session.ctx, {
    auth: session.auth,
    clientId: session.clientId,
    connectionId: session.id,
    idPrefix: `${session.id}:${msgSerial}`,
    msgSerial,
    transport: 'realtime',
  }, name, pm.messages ?? []);
  return outcome.serials;
}
