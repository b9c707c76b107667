/**
 * The comet transports of this node, by the connection keys they have carried in CONNECTED. A comet
 * request names its connection by key; the key maps to the one transport that handed it out, so a
 * stale request with an older key of a resumed connection never reaches the newer transport.
 */
import { AblyError, Err } from '@encke/protocol';
import type { CometTransport } from './comet-transport.js';

export class CometRegistry {
  private readonly byKey = new Map<string, CometTransport>();

  add(key: string, transport: CometTransport): void {
    this.byKey.set(key, transport);
  }

  remove(key: string, transport: CometTransport): void {
    if (this.byKey.get(key) === transport) this.byKey.delete(key);
  }

  /**
   * The transport `key` names, if it belongs to `appId`. An unknown, expired or other app's key
   * gets the same 80022, so nothing about other apps leaks, and ably-js (which FAILs on 4xxxx
   * codes but resumes on others) reconnects with `resume=` instead of giving up.
   */
  find(key: string, appId: string): CometTransport {
    const transport = this.byKey.get(key);
    if (!transport || transport.appId !== appId) {
      throw new AblyError(Err.connectionNotFound, 'Connection not found: unknown or expired connection key');
    }
    return transport;
  }

  get size(): number {
    return this.byKey.size;
  }
}
