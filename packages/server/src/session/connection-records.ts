/**
 * The shared records of this node's connections (engines with a ConnectionStore, i.e. Redis): the
 * record a session keeps current so that a resume, a REST publish on its behalf or a comet request
 * can arrive at any node. Every update here is best effort and logged on failure: the connection on
 * this node works on regardless; only a resume elsewhere would miss the update. Without a shared
 * engine every method is a no-op and nothing is ever found.
 */
import { createHash } from 'node:crypto';
import { secretsEqual } from '../auth/secret.js';
import type { ConnectionRecord, ConnectionStore } from '../engine/connection-store.js';
import type { Logger } from '../util/logger.js';
import type { ParsedConnectionKey } from './connection-key.js';

/** What a record is made from: the parts of a session that another node needs to resume it. */
export interface RecordedConnection {
  readonly id: string;
  readonly appId: string;
  readonly clientId: string | undefined;
  readonly connectionSecret: string;
  readonly msgSerialHigh: number;
  readonly remainPresentFor: number;
  presenceChannels(): string[];
}

function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export class ConnectionRecords {
  constructor(
    private readonly store: ConnectionStore | undefined,
    /** This node (the owner recorded for its connections). */
    private readonly nodeId: string,
    /** How long the record of a connection without a transport stays resumable. */
    private readonly connectionStateTtl: number,
    private readonly logger: Logger,
  ) {}

  /** Whether connections are shared (they outlive this node, and may be resumed on another). */
  get shared(): boolean {
    return this.store !== undefined;
  }

  /** A new connection: record it so any node can resume it. */
  save(c: RecordedConnection): void {
    this.bestEffort('save', this.store?.save(this.recordOf(c)));
  }

  /** The connection is live on this node again (a resume here): it owns it, with no expiry. */
  reclaim(c: RecordedConnection): void {
    this.bestEffort('claim', this.store?.claim(c.id, this.nodeId, secretHash(c.connectionSecret)));
  }

  /** The connection lost its transport: resumable for `connectionStateTtl`. */
  suspend(c: RecordedConnection): void {
    this.bestEffort('suspend', this.store?.suspend(c.id, this.connectionStateTtl));
  }

  forget(c: RecordedConnection): void {
    this.bestEffort('remove', this.store?.remove(c.id));
  }

  presenceChannelsChanged(c: RecordedConnection): void {
    this.bestEffort('presence channels', this.store?.setPresenceChannels(c.id, c.presenceChannels()));
  }

  /** The record `key` names, if it is a connection of `appId` and the key's secret matches. */
  async find(key: ParsedConnectionKey, appId: string): Promise<ConnectionRecord | undefined> {
    const record = await this.store?.load(key.connectionId);
    if (!record || record.appId !== appId || !secretsEqual(secretHash(key.secret), record.secretHash)) return undefined;
    return record;
  }

  /**
   * Takes a connection over from its recorded owner: this node owns it now, under the new secret
   * `c` has; the previous owner is told to let go. Not best effort: the takeover fails with it.
   */
  async claim(c: RecordedConnection): Promise<void> {
    await this.store?.claim(c.id, this.nodeId, secretHash(c.connectionSecret));
  }

  private recordOf(c: RecordedConnection): ConnectionRecord {
    const record: ConnectionRecord = {
      connectionId: c.id,
      appId: c.appId,
      secretHash: secretHash(c.connectionSecret),
      msgSerial: c.msgSerialHigh,
      remainPresentFor: c.remainPresentFor,
      presenceChannels: c.presenceChannels(),
      owner: this.nodeId,
    };
    if (c.clientId !== undefined) record.clientId = c.clientId;
    return record;
  }

  private bestEffort(what: string, work: Promise<unknown> | undefined): void {
    work?.catch((err: unknown) =>
      this.logger.warn({ err: (err as Error).message }, `shared connection state: ${what} failed`),
    );
  }
}
