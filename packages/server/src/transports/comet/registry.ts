/**
 * This node's comet connections, each one record: its transport, its app, the connection keys the
 * session handed out through it (`Transport.connected`), and the credential its last request
 * verified. A comet request names its connection by key; the key maps to the one transport that
 * handed it out, so a stale request with an older key of a resumed connection never reaches the
 * newer transport.
 *
 * Keys are bearer secrets: records are found by the connectionId part and every key is then
 * compared in constant time, as a resume does.
 */
import type { AuthContext, Credentials } from '../../auth/authenticate.js';
import { capabilityToJson } from '../../auth/capability.js';
import { sameLengthSecretsEqual } from '../../auth/secret.js';
import { ParkingLot, type NextRequestReader } from '../../http/parked.js';
import type { Clock } from '../../util/clock.js';
import { parseConnectionKey } from '../../session/connection-key.js';
import type { ConnectionIssued } from '../../session/port.js';
import type { CometKeys, CometTransport } from './comet-transport.js';

/** Connection keys one transport answers to (a CONNECTED after reauth hands out a new one). */
const MAX_KEYS = 4;

/**
 * The credentials a connection's last request authenticated with. A comet request is one more frame
 * of a connection that is already authenticated: a request carrying the very same key or token
 * (ably-js repeats it on every request) reuses the result instead of verifying it again, like the
 * frames of a WebSocket, until the token expires. Revocation and app deletion end the session and
 * with it the transport; anything else (another credential, a new token after reauth) is verified.
 */
export class VerifiedCredentials {
  private readonly credential: string;

  constructor(
    credentials: Credentials,
    private readonly auth: AuthContext,
  ) {
    this.credential = credentialString(credentials);
  }

  reuse(credentials: Credentials, now: number): AuthContext | undefined {
    // Constant time for the length: what leaks is whether the lengths are equal, never the content.
    return sameLengthSecretsEqual(credentialString(credentials), this.credential) ? this.current(now) : undefined;
  }

  /** What `reuse` gives for the very credential it holds: the authentication, until it expires. */
  current(now: number): AuthContext | undefined {
    return this.auth.expires !== undefined && this.auth.expires <= now ? undefined : this.auth;
  }
}

/**
 * The last key credential made: the connections of one key share it instead of each keeping its
 * own copy (keys are in the app configuration anyway; tokens are never kept here).
 */
let lastKeyCredential = '';

function credentialString(c: Credentials): string {
  if (c.key === undefined) return c.token !== undefined ? `t:${c.token}` : '';
  const credential = `k:${c.key}`;
  if (credential !== lastKeyCredential) lastKeyCredential = credential;
  return lastKeyCredential;
}

/** Whether two authentications grant exactly the same: key, method, clientId and capability. */
export function sameGrant(a: AuthContext, b: AuthContext): boolean {
  if (a === b) return true;
  return (
    a.app.id === b.app.id &&
    a.keyName === b.keyName &&
    a.method === b.method &&
    a.clientId === b.clientId &&
    capabilityToJson(a.capability) === capabilityToJson(b.capability)
  );
}

/** A request whose credential the connection does not hold (yet): it waits for the session to take it. */
interface BindWaiter {
  readonly auth: AuthContext;
  readonly resolve: (bound: boolean) => void;
}

/** One comet connection as this node's comet routes know it. */
export interface CometConnection {
  readonly transport: CometTransport;
  readonly connectionId: string;
  /** Every request must be for this app. */
  readonly appId: string;
  /** Keys handed out through the transport, oldest first (at most MAX_KEYS). */
  readonly keys: string[];
  /** What the connection is authenticated as (the session's, from its last CONNECTED): every request must grant the same. */
  bound: AuthContext;
  /** What the last fully verified request authenticated with (granting `bound`). */
  verified: VerifiedCredentials | undefined;
  /** Requests waiting for the session to take their credential (an in-band reauth under way). */
  waiters: readonly BindWaiter[];
  /** Changes whenever `keys` change (a `Found` made before is then stale). */
  keyVersion: number;
}

/**
 * What `find(key, true)` returned for a key and the credential it verified, kept so that the very
 * same request can be checked again without reading the key or the credential again (raw-recv.ts:
 * a long poll repeats its recv byte for byte). `again` says whether both would give the same.
 */
export interface Found {
  readonly record: CometConnection;
  readonly keyVersion: number;
  readonly verified: VerifiedCredentials;
}

/** The waiters of a connection with none (nearly always): one shared empty array. */
const NO_WAITERS: readonly BindWaiter[] = Object.freeze([]);

/** How long a recv is held before it is parked off node:http (http/parked.ts): one to two of these. */
const PARK_AFTER_MS = 250;

export class CometRegistry implements CometKeys {
  /** Records by connectionId: a resumed connection may briefly have a lingering old transport and a new one. */
  private readonly byConnection = new Map<string, CometConnection[]>();
  private keyCount = 0;
  private readonly parking: ParkingLot;
  /** Reads a parked socket's next recv without node:http (raw-recv.ts; set by the routes). */
  nextRequest: NextRequestReader | undefined = undefined;
  /** Recvs the NextRequestReader served (inspection). */
  rawRecvs = 0;

  constructor(clock: Clock) {
    this.parking = new ParkingLot(clock, PARK_AFTER_MS);
  }

  /** `transport` holds a recv: parked if it is still held a period later. */
  holding(transport: CometTransport): void {
    this.parking.add(transport);
  }

  /** The session handed `transport` a key: requests with it reach the transport from now on. */
  issued(transport: CometTransport, issued: ConnectionIssued): void {
    // Arrays made with their first element: an empty array that grows is allocated for 17.
    const records = this.byConnection.get(issued.connectionId);
    let record = records?.find((r) => r.transport === transport);
    if (!record) {
      record = {
        transport,
        connectionId: issued.connectionId,
        appId: issued.appId,
        keys: [issued.connectionKey],
        bound: issued.auth,
        verified: undefined,
        waiters: NO_WAITERS,
        keyVersion: 0,
      };
      if (records) records.push(record);
      else this.byConnection.set(issued.connectionId, [record]);
    } else {
      record.keys.push(issued.connectionKey);
      record.keyVersion++;
    }
    this.keyCount++;
    if (record.keys.length > MAX_KEYS) {
      record.keys.shift();
      this.keyCount--;
    }
    if (record.bound !== issued.auth) {
      record.bound = issued.auth;
      record.verified = undefined;
    }
    if (record.waiters.length === 0) return;
    const ready = record.waiters.filter((w) => sameGrant(w.auth, issued.auth));
    record.waiters = record.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve(true);
  }

  /**
   * Resolves true once the connection is authenticated as `auth` (the session took the request's
   * credential by in-band AUTH), false after `waitMs` or when the transport ends.
   */
  awaitBinding(record: CometConnection, auth: AuthContext, clock: Clock, waitMs: number): Promise<boolean> {
    if (sameGrant(auth, record.bound)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: BindWaiter = {
        auth,
        resolve: (bound) => {
          clock.clearTimeout(timer);
          resolve(bound);
        },
      };
      const timer = clock.setTimeout(() => {
        record.waiters = record.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, waitMs);
      record.waiters = [...record.waiters, waiter];
    });
  }

  /** The transport ended for good: its keys no longer reach it. */
  forget(transport: CometTransport, connectionId: string): void {
    const records = this.byConnection.get(connectionId);
    const i = records?.findIndex((r) => r.transport === transport) ?? -1;
    if (i < 0) return;
    for (const w of records![i]!.waiters) w.resolve(false);
    this.keyCount -= records![i]!.keys.length;
    records!.splice(i, 1);
    if (records!.length === 0) this.byConnection.delete(connectionId);
  }

  /** The connection `key` names on this node, if its transport is live (or `lingering` with a final frame), whatever its app. */
  find(key: string, lingering = false): CometConnection | undefined {
    const id = parseConnectionKey(key)?.connectionId;
    const records = id === undefined ? undefined : this.byConnection.get(id);
    let found: CometConnection | undefined;
    // Every key is compared, so the timing does not tell which generation matched.
    for (const r of records ?? []) for (const k of r.keys) if (sameLengthSecretsEqual(key, k)) found = r;
    return !found || (found.transport.isEnded && !lingering) ? undefined : found;
  }

  /**
   * The record `found` names and its verified credential's authentication, if `find(key, true)` for
   * the key it was found by and `verified.reuse` for the credential it verified would give them
   * again: the record with the same keys (its keyVersion), still the last registered for its
   * connection (`find` takes the last match; a forgotten record is not registered), the same
   * VerifiedCredentials, not expired.
   * Undefined when in doubt (a key reissued, a resume's newer record): the caller looks up anew.
   */
  again(found: Found, now: number): AuthContext | undefined {
    const record = found.record;
    if (record.keyVersion !== found.keyVersion || record.verified !== found.verified) return undefined;
    const records = this.byConnection.get(record.connectionId);
    return records?.[records.length - 1] === record ? found.verified.current(now) : undefined;
  }

  /** The connection's live comet record, if it has one here (for inspection). */
  byConnectionId(connectionId: string): CometConnection | undefined {
    return this.byConnection.get(connectionId)?.find((r) => !r.transport.isEnded);
  }

  /** Keys registered (each live or lingering transport has one or a few). */
  get size(): number {
    return this.keyCount;
  }
}
