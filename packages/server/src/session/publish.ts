/**
 * Realtime publish: MESSAGE from the client, answered by ACK `{msgSerial, count, res}` or NACK
 * `{msgSerial, count, error}` (protocol fact sheet §3.3), through the node's one publish path
 * (channels/publisher.ts, shared with REST).
 *
 * Exactly once: a msgSerial at or below the highest one processed is a re-send after a resume
 * (RTN19a2); it gets the same answer again and is not published twice (the session's AckLedger).
 * Messages with their own `id` are also deduplicated by id on the channel within
 * `idempotencyWindow`.
 */
import { AblyError, Err, Flag, PayloadError, type ProtocolMessage } from '@encke/protocol';
import { allows, type Operation } from '../auth/capability.js';
import type { PublishOutcome } from '../engine/channel-store.js';
import type { SendAnswer } from './inbound.js';
import { flatString } from '../util/flat-string.js';
import type { SessionWithContext } from './with-context.js';

/**
 * Claims `msgSerial` for processing. False when it is a re-send: the earlier answer has been sent
 * again and the caller must do nothing more.
 */
export function claimMsgSerial(
  session: SessionWithContext,
  msgSerial: number | undefined,
  action: number,
): msgSerial is number {
  if (session.acks.claim(required(msgSerial, action))) return true;
  answerAgain(session, msgSerial!);
  return false;
}

function required(msgSerial: number | undefined, action: number): number {
  if (msgSerial === undefined) throw new AblyError(Err.protocolError, `Action ${action} without msgSerial`);
  return msgSerial;
}

/** Sends a re-sent msgSerial the answer it had (an ACK still owed, even from this read, is made first). */
function answerAgain(session: SessionWithContext, msgSerial: number): void {
  session.acknowledge(session.answered(msgSerial) ?? { msgSerial, serials: [] });
}

/** NACKs a publish whose messages did not validate, keeping the exactly-once bookkeeping. */
export function rejectPayload(session: SessionWithContext, err: PayloadError): void {
  if (claimMsgSerial(session, err.envelope.msgSerial, err.envelope.action)) session.nack(err.envelope.msgSerial!, err);
}

/**
 * Starts a publish (MESSAGE, or one whose messages did not validate) now. Returns what sends the
 * ACK or NACK: at once when the engine answered at once (the memory engine: no promise is made for
 * the publish at all), else a promise of it, resolved once the engine has answered. The inbound
 * queue calls it in msgSerial order, so a re-send looks up its earlier answer only after that
 * answer exists.
 */
export function startPublish(
  session: SessionWithContext,
  pm: ProtocolMessage | PayloadError,
): SendAnswer | Promise<SendAnswer> {
  const envelope = pm instanceof PayloadError ? pm.envelope : pm;
  const msgSerial = required(envelope.msgSerial, envelope.action);
  if (!session.acks.claim(msgSerial)) return () => answerAgain(session, msgSerial);
  if (pm instanceof PayloadError) return () => session.nack(msgSerial, pm);
  const received = performance.now();
  let answer: PublishOutcome | Promise<PublishOutcome>;
  try {
    answer = publishMessages(session, pm, msgSerial);
  } catch (err) {
    return refusal(session, pm, msgSerial, err, received);
  }
  if (answer instanceof Promise)
    return answer.then(
      (outcome) => acknowledgement(session, msgSerial, outcome.serials, received),
      (err: unknown) => refusal(session, pm, msgSerial, err, received),
    );
  return acknowledgement(session, msgSerial, answer.serials, received);
}

/**
 * The ACK is owed, not made: the session makes it when it flushes, after the fan-out's first write,
 * or before anything could overtake it or look it up (session-outbound.ts).
 */
function acknowledgement(
  session: SessionWithContext,
  msgSerial: number,
  serials: (string | null)[],
  received: number,
): SendAnswer {
  return () => session.deferAck(msgSerial, serials, received);
}

function refusal(
  session: SessionWithContext,
  pm: ProtocolMessage,
  msgSerial: number,
  err: unknown,
  received: number,
): SendAnswer {
  const e = AblyError.from(err);
  if (e.statusCode >= 500)
    session.ctx.logger.error({ err, connectionId: session.id, channel: pm.channel }, 'publish failed');
  return () => {
    session.nack(msgSerial, e);
    session.ctx.metrics.ackLatency.observe((performance.now() - received) / 1000);
  };
}

/** Hands the messages to the node's publisher: the engine's answer, at once when it gives one at once. */
function publishMessages(
  session: SessionWithContext,
  pm: ProtocolMessage,
  msgSerial: number,
): PublishOutcome | Promise<PublishOutcome> {
  const name = pm.channel;
  if (name === undefined) throw new AblyError(Err.invalidChannelName, 'MESSAGE without a channel');
  requireMode(session, name, Flag.PUBLISH, 'publish', 'publish a message', 'PUBLISH');
  const source = {
    auth: session.auth,
    clientId: session.clientId,
    connectionId: session.id,
    // The event's id and the prefix of its messages' ids, which the log keeps: flat (util/flat-string.ts).
    idPrefix: flatString([session.id, ':', msgSerial]),
    msgSerial,
    transport: 'realtime' as const,
  };
  return session.ctx.publisher.publishNow(source, name, pm.messages ?? []);
}

/**
 * Refuses an operation the capability allows on a channel this connection attached without the
 * mode it needs (40165, ably-common errors/codes/40165.md: "the credentials permit the operation;
 * the mode was not requested"); what the capability denies stays a 40160 from the capability check.
 * Publishing without an attachment is allowed: only modes the client narrowed at attach restrict it.
 */
export function requireMode(
  session: SessionWithContext,
  channel: string,
  mode: number,
  op: Operation,
  operation: string,
  modeName: string,
): void {
  const att = session.attachments.get(channel);
  if (att && (att.modes & mode) === 0 && allows(session.auth.capability, channel, op)) {
    throw new AblyError(
      Err.channelModeNotRequested,
      `Unable to ${operation} as client did not request the ${modeName} mode when attaching`,
    );
  }
}
