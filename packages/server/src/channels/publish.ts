/**
 * Publishing messages to a channel, the same for realtime MESSAGE and REST publishes: channel name
 * and capability checks, size limit, clientId rules, the fields every stored message carries
 * (id, clientId, connectionId, timestamp, action), idempotency by message id, the namespace's log
 * retention, and the stats count. Callers have validated the messages (`parseMessage`).
 */
import { AblyError, Err, MessageAction, dataSize, type Message } from '@encke/protocol';
import { namespaceOf } from '../apps/app.js';
import { checkItemClientId, type AuthContext } from '../auth/authenticate.js';
import { allows } from '../auth/capability.js';
import { channelKey, type LogRetention, type PublishOutcome } from '../engine/engine.js';
import type { NodeContext } from '../session/context.js';
import type { StatsTransport } from '../stats/counters.js';
import { validateChannelName } from './names.js';

/** Who publishes, and how messages without their own id are named. */
export interface PublishSource {
  readonly auth: AuthContext;
  /** The clientId messages default to and are checked against (`*` wildcard, undefined anonymous). */
  readonly clientId: string | undefined;
  /** The realtime connection the messages come from, or are published on behalf of. */
  readonly connectionId: string | undefined;
  /** Messages without an id get `<idPrefix>:<index>`; also the event id. */
  readonly idPrefix: string;
  /** The realtime publish's msgSerial: a shared engine records it with the append. */
  readonly msgSerial?: number;
  readonly transport: StatsTransport;
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

/** The log retention for channel `name`: longer in a `persisted` namespace, the engine's default otherwise. */
export function retentionFor(ctx: NodeContext, auth: AuthContext, name: string): LogRetention | undefined {
  if (!namespaceOf(auth.app, name)?.persisted) return undefined;
  return { maxAge: ctx.options.persistedHistoryMaxAge, maxCount: ctx.options.persistedHistoryMaxCount };
}

/** Checks that `source` may publish on channel `name` (40010, 40160). */
export function checkPublish(ctx: NodeContext, auth: AuthContext, name: string): void {
  validateChannelName(name, ctx.options.maxChannelNameLength);
  if (!allows(auth.capability, name, 'publish')) {
    throw new AblyError(Err.capabilityDenied, `Permission denied: publish not permitted on channel "${name}"`);
  }
}

/** Publishes `messages` (mutated into their stored form) on channel `name`; one serial per message. */
export async function publishMessages(ctx: NodeContext, source: PublishSource, name: string, messages: Message[]): Promise<PublishOutcome> {
  checkPublish(ctx, source.auth, name);
  if (messages.length === 0) throw new AblyError(Err.badRequest, 'A publish needs at least one message');
  checkMessagesSize(messages, ctx.options.maxMessageSize);
  const now = ctx.clock.now();
  let withIds = false;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.action !== undefined && m.action !== MessageAction.CREATE) {
      throw new AblyError(Err.mutableMessagesDisabled, 'Message updates, deletes and appends are not enabled on this channel');
    }
    if (m.id !== undefined) withIds = true;
    else m.id = `${source.idPrefix}:${i}`;
    const clientId = checkItemClientId(source.auth, source.clientId, m.clientId);
    if (clientId !== undefined) m.clientId = clientId;
    if (source.connectionId !== undefined) m.connectionId = source.connectionId;
    else delete m.connectionId;
    delete m.connectionKey;
    m.timestamp ??= now;
    m.action = MessageAction.CREATE;
  }
  const appId = source.auth.app.id;
  const event = { kind: 'message' as const, id: source.idPrefix, timestamp: now, messages };
  const outcome = await ctx.engine.channels.publish(
    channelKey(appId, name),
    source.connectionId !== undefined ? { ...event, connectionId: source.connectionId } : event,
    {
      idempotencyWindow: withIds ? ctx.options.idempotencyWindow : 0,
      retention: retentionFor(ctx, source.auth, name),
      ...(source.msgSerial !== undefined && source.connectionId !== undefined && ctx.engine.connections
        ? { connection: { id: source.connectionId, msgSerial: source.msgSerial } }
        : {}),
    },
  );
  if (outcome.event) ctx.stats.countMessages(appId, 'inbound', source.transport, 'messages', outcome.event.messages ?? []);
  return outcome;
}
