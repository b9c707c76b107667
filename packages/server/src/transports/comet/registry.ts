/**
 * The comet transports of this node, by the connection keys they have carried in CONNECTED. A comet
 * request names its connection by key; the key maps to the one transport that handed it out, so a
 * stale request with an older key of a resumed connection never reaches the newer transport.
 *
 * Keys are bearer secrets: entries are found by the connectionId part and the whole key is then
 * compared in constant time, as a resume does.
 */
import { AblyError, Err } from '@encke/protocol';
import { sameLengthSecretsEqual } from '../../auth/secret.js';
import { parseConnectionKey } from '../../session/connection-key.js';
import type { CometTransport } from './comet-transport.js';

interface Entry {
  readonly key: string;
  readonly transport: CometTransport;
}

export class CometRegistry {
  private readonly byConnection = new Map<string, Entry[]>();
  private count = 0;

  add(key: string, transport: CometTransport): void {
    const id = parseConnectionKey(key)?.connectionId;
    if (id === undefined) return;
    const entries = this.byConnection.get(id);
    if (entries) entries.push({ key, transport });
    else this.byConnection.set(id, [{ key, transport }]);
    this.count++;
  }

  remove(key: string, transport: CometTransport): void {
    const id = parseConnectionKey(key)?.connectionId;
    const entries = id === undefined ? undefined : this.byConnection.get(id);
    if (!entries) return;
    const i = entries.findIndex((e) => e.key === key && e.transport === transport);
    if (i < 0) return;
    entries.splice(i, 1);
    this.count--;
    if (entries.length === 0) this.byConnection.delete(id!);
  }

  /**
   * The transport `key` names, if it belongs to `appId` (and is live, unless `ended` transports
   * still holding a final frame will do). An unknown, expired, ended or other app's key gets the
   * same 80022, so nothing about other apps leaks, and ably-js (which FAILs on 4xxxx codes but
   * resumes on others) reconnects with `resume=` instead of giving up.
   */
  find(key: string, appId: string, ended = false): CometTransport {
    const found = this.byKey(key, ended);
    if (!found || found.appId !== appId) throw new AblyError(Err.connectionNotFound, 'Connection not found: unknown or expired connection key');
    return found;
  }

  /** The transport `key` names on this node, if it is live (or `ended` and lingering), whatever its app. */
  byKey(key: string, ended = false): CometTransport | undefined {
    const id = parseConnectionKey(key)?.connectionId;
    const entries = id === undefined ? undefined : this.byConnection.get(id);
    let found: CometTransport | undefined;
    // Every entry is compared, so the timing does not tell which generation matched.
    for (const e of entries ?? []) if (sameLengthSecretsEqual(key, e.key)) found = e.transport;
    return !found || (found.isEnded && !ended) ? undefined : found;
  }

  /** Keys registered (each live or lingering transport has one or a few). */
  get size(): number {
    return this.count;
  }
}
