/**
 * Connection state shared between nodes (engines with a ConnectionStore, i.e. Redis): the record a
 * session keeps current so that a resume can arrive at any node, and the takeover of a connection
 * another node owned. Every store call here is best effort and logged on failure: the connection
 * on this node works on regardless; only a resume elsewhere would miss the update.
 */
import { createHash } from 'node:crypto';
import { AblyError, Err, type ErrorInfo } from '@encke/protocol';
import type { AuthContext } from '../auth/authenticate.js';
import type { ConnectionRecord } from '../engine/engine.js';
import type { ParsedConnectionKey } from './connection-key.js';
import type { NodeContext } from './context.js';
import { Session, type SessionParams } from './session.js';
import { secretsEqual } from '../auth/secret.js';

export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function recordOf(session: Session): ConnectionRecord {
  const record: ConnectionRecord = {
    connectionId: session.id,
    appId: session.app.id,
    secretHash: secretHash(session.connectionSecret),
    msgSerial: session.msgSerialHigh,
    remainPresentFor: session.remainPresentFor,
    presenceChannels: session.presenceChannels(),
    owner: session.ctx.options.serverId,
  };
  if (session.clientId !== undefined) record.clientId = session.clientId;
  return record;
}

function bestEffort(ctx: NodeContext, what: string, work: Promise<unknown> | undefined): void {
  work?.catch((err: unknown) => ctx.logger.warn({ err: (err as Error).message }, `shared connection state: ${what} failed`));
}

/** A new connection: record it so any node can resume it. */
export function recordConnection(session: Session): void {
  bestEffort(session.ctx, 'save', session.ctx.engine.connections?.save(recordOf(session)));
}

/** The connection is live on this node again (a resume here): it owns it, with no expiry. */
export function reclaimConnection(session: Session): void {
  bestEffort(session.ctx, 'claim', session.ctx.engine.connections?.claim(session.id, session.ctx.options.serverId, secretHash(session.connectionSecret)));
}

export function suspendConnection(session: Session): void {
  bestEffort(session.ctx, 'suspend', session.ctx.engine.connections?.suspend(session.id, session.ctx.options.connectionStateTtl));
}

export function forgetConnection(session: Session): void {
  bestEffort(session.ctx, 'remove', session.ctx.engine.connections?.remove(session.id));
}

export function recordPresenceChannels(session: Session): void {
  bestEffort(session.ctx, 'presence channels', session.ctx.engine.connections?.setPresenceChannels(session.id, session.presenceChannels()));
}

type Found = { session: Session; error?: undefined } | { session?: undefined; error: ErrorInfo };

const unknown = (): Found => ({ error: new AblyError(Err.connectionExpired, 'Unable to recover connection: connection expired or unknown').toErrorInfo() });

/**
 * A connection this node does not have: take it over from the shared store if the key's secret
 * matches, it belongs to the same app and clientId. The new owner has a new secret (the client
 * adopts the key of the CONNECTED that follows) and tells the old owner to let go.
 */
export async function takeOver(ctx: NodeContext, key: ParsedConnectionKey, auth: AuthContext, params: SessionParams): Promise<Found> {
  const store = ctx.engine.connections;
  if (!store) return unknown();
  const record = await store.load(key.connectionId);
  if (!record || !secretsEqual(secretHash(key.secret), record.secretHash) || record.appId !== auth.app.id) return unknown();
  if (record.clientId !== params.clientId) {
    return { error: new AblyError(Err.incompatibleRecoverAuth, 'Unable to recover connection: the clientId differs from the original connection').toErrorInfo() };
  }
  const session = new Session(ctx, params, record);
  await store.claim(session.id, ctx.options.serverId, secretHash(session.connectionSecret));
  ctx.sessions.add(session);
  ctx.logger.info({ connectionId: session.id, from: record.owner }, 'connection taken over from another node');
  return { session };
}

/** Another node took `connectionId` over: this node lets go of it (no presence leave, no record removal). */
export function onTakeover(ctx: NodeContext, connectionId: string, newOwner: string): void {
  if (newOwner === ctx.options.serverId) return;
  ctx.sessions.get(connectionId)?.relinquish();
}
