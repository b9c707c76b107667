/**
 * Realtime updates, deletes, appends (a MESSAGE whose message has action 1, 2 or 5 and the serial
 * of the message it changes) and annotations (ANNOTATION), answered like publishes: ACK with the
 * serial of the new version (what `channel.updateMessage` resolves to, ably-js `sendUpdate`) or
 * of each annotation, NACK with the error. Each reads the message it changes before writing, so
 * the inbound queue hands them over one at a time, after the publishes before them are answered.
 */
import {
  AblyError,
  Err,
  Flag,
  MessageAction,
  type Annotation,
  type Message,
  type ProtocolMessage,
} from '@encke/protocol';
import { allows } from '../auth/capability.js';
import type { PublishSource } from '../channels/publisher.js';
import { claimMsgSerial, requireMode } from './publish.js';
import type { SessionWithContext } from './with-context.js';

function sourceOf(session: SessionWithContext, msgSerial: number): PublishSource {
  return {
    auth: session.auth,
    clientId: session.clientId,
    connectionId: session.id,
    idPrefix: `${session.id}:${msgSerial}`,
    msgSerial,
    transport: 'realtime',
  };
}

function channelOf(pm: ProtocolMessage): string {
  if (pm.channel === undefined) throw new AblyError(Err.invalidChannelName, `Action ${pm.action} without a channel`);
  return pm.channel;
}

/** Runs `work` for a message that expects an ACK; answers it with the serials or the error. */
async function answered(
  session: SessionWithContext,
  pm: ProtocolMessage,
  work: (msgSerial: number) => Promise<string[]>,
): Promise<void> {
  if (!claimMsgSerial(session, pm.msgSerial, pm.action)) return;
  const msgSerial = pm.msgSerial;
  try {
    session.acknowledge({ msgSerial, serials: await work(msgSerial) });
  } catch (err) {
    const e = AblyError.from(err);
    if (e.statusCode >= 500)
      session.ctx.logger.error({ err, connectionId: session.id, channel: pm.channel }, 'message change failed');
    session.nack(msgSerial, e);
  }
}

/** An update, delete or append of one message. */
export function changeMessage(session: SessionWithContext, pm: ProtocolMessage): Promise<void> {
  return answered(session, pm, async (msgSerial) => {
    const name = channelOf(pm);
    const messages = pm.messages ?? [];
    if (messages.length !== 1)
      throw new AblyError(
        Err.invalidParameterValue,
        'An update, delete or append must be published on its own, one message per MESSAGE',
      );
    requirePublishMode(session, name, messages[0]!);
    return [await session.ctx.changes.change(sourceOf(session, msgSerial), name, messages[0]!)];
  });
}

/**
 * A change is a publish: on a channel attached without PUBLISH it is refused with 40165 when the
 * capability would allow it (40160 from the capability check otherwise), as publish.ts does.
 */
function requirePublishMode(session: SessionWithContext, name: string, change: Message): void {
  const att = session.attachments.get(name);
  if (!att || (att.modes & Flag.PUBLISH) !== 0) return;
  const [anyone, own] =
    change.action === MessageAction.DELETE
      ? (['message-delete-any', 'message-delete-own'] as const)
      : (['message-update-any', 'message-update-own'] as const);
  if (allows(session.auth.capability, name, anyone) || allows(session.auth.capability, name, own)) {
    throw new AblyError(
      Err.channelModeNotRequested,
      'Unable to change a message as client did not request the PUBLISH mode when attaching',
    );
  }
}

/** Annotations of one message. */
export function annotate(session: SessionWithContext, pm: ProtocolMessage): Promise<void> {
  return answered(session, pm, (msgSerial) => {
    const name = channelOf(pm);
    const annotations: Annotation[] = pm.annotations ?? [];
    if (annotations.length === 0) throw new AblyError(Err.badRequest, 'ANNOTATION without annotations');
    requireMode(
      session,
      name,
      Flag.ANNOTATION_PUBLISH,
      'annotation-publish',
      'publish an annotation',
      'ANNOTATION_PUBLISH',
    );
    return session.ctx.changes.annotate(sourceOf(session, msgSerial), name, annotations);
  });
}
