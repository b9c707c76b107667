/**
 * The sessions this node owns (connected, or waiting for a resume), and the one lookup of a
 * connection by key that resume, recover, REST publishes on behalf of a connection, and comet
 * routing and close all use.
 */
import { AblyError, Err } from '@encke/protocol';
import type { ConnectionRecord } from '../engine/connection-store.js';
import type { ResolvedOptions } from '../options.js';
import type { Faults } from '../util/faults.js';
import type { ConnectionRecords } from './connection-records.js';
import { parseConnectionKey } from './connection-key.js';
import type { SessionHandle } from './handle.js';

/**
 * Where the connection a key names is: a session on this node; a shared record (another node owns
 * it, or owned it and died); or nowhere this app's credentials may see. Another app's connection
 * and a wrong secret are `unknown` exactly like a connection that never existed: nothing leaks.
 */
export type ConnectionLookup =
  | { readonly where: 'local'; readonly session: SessionHandle }
  | { readonly where: 'remote'; readonly record: ConnectionRecord }
  | { readonly where: 'unknown'; readonly malformed: boolean };

const MALFORMED: ConnectionLookup = { where: 'unknown', malformed: true };
const UNKNOWN: ConnectionLookup = { where: 'unknown', malformed: false };

export class SessionRegistry {
  private readonly map = new Map<string, SessionHandle>();
  /** Sessions per app, for `maxConnectionsPerApp`. */
  private readonly perApp = new Map<string, number>();

  constructor(private readonly records: ConnectionRecords) {}

  /**
   * Throws unless a new session of `appId` fits: 50004 past `maxConnections` (the node is full: the
   * SDK is told DISCONNECTED and retries), 40111 past `maxConnectionsPerApp`.
   */
  admit(appId: string, limits: Pick<ResolvedOptions, 'maxConnections' | 'maxConnectionsPerApp'>, faults: Faults): void {
    if (this.map.size >= limits.maxConnections) {
      faults.limitReached('maxConnections');
      throw new AblyError(
        Err.overloaded,
        `This server is at its limit of ${limits.maxConnections} connections; retry later`,
      );
    }
    if ((this.perApp.get(appId) ?? 0) >= limits.maxConnectionsPerApp) {
      faults.limitReached('maxConnectionsPerApp', { appId });
      throw new AblyError(
        Err.connectionLimit,
        `Connection limit of ${limits.maxConnectionsPerApp} reached for application ${appId}`,
      );
    }
  }

  add(session: SessionHandle): void {
    const previous = this.map.get(session.id);
    if (previous === session) return;
    if (previous) this.remove(previous);
    this.map.set(session.id, session);
    this.perApp.set(session.appId, (this.perApp.get(session.appId) ?? 0) + 1);
  }

  remove(session: SessionHandle): void {
    if (this.map.get(session.id) !== session) return;
    this.map.delete(session.id);
    const n = (this.perApp.get(session.appId) ?? 1) - 1;
    if (n > 0) this.perApp.set(session.appId, n);
    else this.perApp.delete(session.appId);
  }

  get(connectionId: string): SessionHandle | undefined {
    return this.map.get(connectionId);
  }

  values(): IterableIterator<SessionHandle> {
    return this.map.values();
  }

  get size(): number {
    return this.map.size;
  }

  /**
   * The connection `key` names, for credentials of `appId`: this node's session if it has one (a
   * session here is never looked for elsewhere), else its shared record.
   */
  async lookup(key: string, appId: string): Promise<ConnectionLookup> {
    const parsed = parseConnectionKey(key);
    if (!parsed) return MALFORMED;
    const session = this.map.get(parsed.connectionId);
    if (session && !session.closed)
      return session.ownsKey(key) && session.appId === appId ? { where: 'local', session } : UNKNOWN;
    const record = await this.records.find(parsed, appId);
    return record ? { where: 'remote', record } : UNKNOWN;
  }
}
