/**
 * Presence (RTP; protocol fact sheet §2.4, §3.6): ENTER / UPDATE / LEAVE from a connection, SYNC of
 * the member set after ATTACHED, and the connection's members leaving when it detaches, closes, or
 * loses its transport for longer than `remainPresentFor` without resuming.
 */
import {
  AblyError,
  Action,
  Err,
  Flag,
  PresenceAction,
  dataSize,
  type PresenceMessage,
  type ProtocolMessage,
} from '@encke/protocol';
import { checkItemClientId } from '../auth/authenticate.js';
import { allows } from '../auth/capability.js';
import { validateChannelName } from '../channels/names.js';
import { channelKey } from '../engine/channel-store.js';
import { randomAlnum } from '../util/ids.js';
import { claimMsgSerial, requireMode } from './publish.js';
import type { SessionWithContext } from './with-context.js';

const CLIENT_ACTIONS: ReadonlySet<number> = new Set([
  PresenceAction.ENTER,
  PresenceAction.UPDATE,
  PresenceAction.LEAVE,
]);

function presenceSize(item: PresenceMessage): number {
  let size = dataSize(item.data);
  if (item.clientId !== undefined) size += Buffer.byteLength(item.clientId, 'utf8');
  if (item.extras !== undefined) size += Buffer.byteLength(JSON.stringify(item.extras), 'utf8');
  return size;
}

/** Validates the items of a PRESENCE message into changes attributed to this connection. */
function toChanges(
  session: SessionWithContext,
  name: string,
  items: readonly PresenceMessage[],
  msgSerial: number,
  now: number,
): PresenceMessage[] {
  let size = 0;
  return items.map((item, i) => {
    if (!CLIENT_ACTIONS.has(item.action))
      throw new AblyError(Err.badRequest, `Presence action ${item.action} cannot be sent by a client`);
    const clientId = checkItemClientId(session.auth, session.clientId, item.clientId);
    if (clientId === undefined)
      throw new AblyError(Err.presenceNoClientId, `Unable to enter presence channel "${name}" without a clientId`);
    size += presenceSize(item);
    if (size > session.ctx.options.maxMessageSize) {
      throw new AblyError(
        Err.maxMessageSizeExceeded,
        `Presence data exceeds the maximum of ${session.ctx.options.maxMessageSize} bytes`,
      );
    }
    const change: PresenceMessage = {
      ...item,
      clientId,
      connectionId: session.id,
      id: item.id ?? `${session.id}:${msgSerial}:${i}`,
      timestamp: now,
    };
    return change;
  });
}

/** PRESENCE from the client, ACKed like a publish. */
export async function presence(session: SessionWithContext, pm: ProtocolMessage): Promise<void> {
  if (!claimMsgSerial(session, pm.msgSerial, pm.action)) return;
  const msgSerial = pm.msgSerial!;
  const ctx = session.ctx;
  try {
    const name = pm.channel;
    if (name === undefined) throw new AblyError(Err.invalidChannelName, 'PRESENCE without a channel');
    validateChannelName(name, ctx.options.maxChannelNameLength);
    if (!allows(session.auth.capability, name, 'presence')) {
      throw new AblyError(Err.capabilityDenied, `Permission denied: presence not permitted on channel "${name}"`);
    }
    requireMode(session, name, Flag.PRESENCE, 'presence', 'enter, update or leave presence', 'PRESENCE');
    const items = pm.presence;
    if (!items || items.length === 0) throw new AblyError(Err.badRequest, 'PRESENCE without presence messages');
    const now = ctx.clock.now();
    const changes = toChanges(session, name, items, msgSerial, now);
    await ctx.engine.channels.presence(
      channelKey(session.app.id, name),
      {
        kind: 'presence',
        id: `${session.id}:${msgSerial}`,
        connectionId: session.id,
        timestamp: now,
        presence: changes,
      },
      {
        maxMembers: ctx.options.presenceMaxMembers,
        ...(ctx.engine.connections ? { connection: { id: session.id, msgSerial } } : {}),
      },
    );
    session.trackMembers(name, changes);
    session.acknowledge({ msgSerial, serials: changes.map(() => null) });
  } catch (err) {
    const e = AblyError.from(err);
    if (e.code === Err.presenceMemberLimit.code)
      ctx.faults.limitReached('presenceMaxMembers', { appId: session.app.id });
    if (e.statusCode >= 500)
      ctx.logger.error({ err, connectionId: session.id, channel: pm.channel }, 'presence failed');
    session.nack(msgSerial, e);
  }
}

/**
 * Sends the member set as SYNC messages of `presenceSyncPageSize` members. channelSerial is
 * `<syncId>:<cursor>` with an empty cursor on the last page (ably-js parses `^([\w-]+):(.*)$`).
 */
export function sendSync(session: SessionWithContext, channel: string, members: readonly PresenceMessage[]): void {
  const pageSize = session.ctx.options.presenceSyncPageSize;
  const syncId = randomAlnum(10);
  for (let start = 0, page = 1; start < members.length || start === 0; start += pageSize, page++) {
    const last = start + pageSize >= members.length;
    session.send({
      action: Action.SYNC,
      channel,
      channelSerial: `${syncId}:${last ? '' : String(page)}`,
      presence: members.slice(start, start + pageSize),
    });
    if (last) break;
  }
}

/** A client-requested SYNC (RTP... `channel.sync()`): the whole set again, if the channel is attached. */
export async function syncRequest(session: SessionWithContext, pm: ProtocolMessage): Promise<void> {
  const name = pm.channel;
  const att = name === undefined ? undefined : session.attachments.get(name);
  if (!att || !att.live) return;
  const members = await session.ctx.engine.channels.members(att.channel.key);
  if (session.attachments.isCurrent(att)) sendSync(session, att.name, members);
}

/** Removes this connection's members from `channel` (detach, close, remainPresentFor elapsed). */
export function leaveChannel(session: SessionWithContext, channel: string): Promise<void> {
  const ctx = session.ctx;
  return ctx.engine.channels.leaveConnection(channelKey(session.app.id, channel), session.id, ctx.clock.now()).then(
    () => undefined,
    (err: unknown) => ctx.logger.error({ err, connectionId: session.id, channel }, 'presence leave failed'),
  );
}
