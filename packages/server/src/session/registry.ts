/**
 * The sessions this node owns (connected, or waiting for a resume), and the one lookup of a
 * connection by key that resume, recover, REST publishes on behalf of a connection, and comet
 * routing and close all use.
 */
import type { ConnectionRecord } from '../engine/connection-store.js';
import type { ConnectionRecords } from './connection-records.js';
import { parseConnectionKey } from './connection-key.js';
import type { Session } from './session.js';

/**
 * Where the connection a key names is: a session on this node; a shared record (another node owns
 * it, or owned it and died); or nowhere this app's credentials may see. Another app's connection
 * and a wrong secret are `unknown` exactly like a connection that never existed: nothing leaks.
 */
export type ConnectionLookup =
  | { readonly where: 'local'; readonly session: Session }
  | { readonly where: 'remote'; readonly record: ConnectionRecord }
  | { readonly where: 'unknown'; readonly malformed: boolean };

const MALFORMED: ConnectionLookup = { where: 'unknown', malformed: true };
const UNKNOWN: ConnectionLookup = { where: 'unknown', malformed: false };

export class SessionRegistry {
  private readonly map = new Map<string, Session>();

  constructor(private readonly records: ConnectionRecords) {}

  add(session: Session): void {
    this.map.set(session.id, session);
  }

  remove(session: Session): void {
    if (this.map.get(session.id) === session) this.map.delete(session.id);
  }

  get(connectionId: string): Session | undefined {
    return this.map.get(connectionId);
  }

  values(): IterableIterator<Session> {
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
    if (session && !session.closed) return session.ownsKey(key) && session.appId === appId ? { where: 'local', session } : UNKNOWN;
    const record = await this.records.find(parsed, appId);
    return record ? { where: 'remote', record } : UNKNOWN;
  }
}
