/**
 * Connection state shared between nodes (shared engines only), so that a resume or recover, a
 * REST publish on behalf of a connection, or a comet request can arrive at any node.
 */

/** A connection as every node can see it: enough to resume it anywhere. */
export interface ConnectionRecord {
  connectionId: string;
  appId: string;
  /** SHA-256 (hex) of the connection key's secret; the secret itself is never stored. */
  secretHash: string;
  clientId?: string;
  /** Highest msgSerial processed (kept current by publishes, see PublishOptions.connection). */
  msgSerial: number;
  remainPresentFor: number;
  /** Channels where the connection has presence members. */
  presenceChannels: string[];
  /** The node that owns the connection. */
  owner: string;
}

/**
 * The owner keeps a connection's record current; a record of a connection without a transport
 * expires. Another node taking a connection over is announced to its previous owner
 * (`EngineEvents.onTakeover`).
 */
export interface ConnectionStore {
  /** Creates or replaces the record of a live connection (no expiry while live). */
  save(record: ConnectionRecord): Promise<void>;
  load(connectionId: string): Promise<ConnectionRecord | undefined>;
  /**
   * Makes `owner` the owner (with a new secret hash), live again, and tells the previous owner to
   * let go (`EngineEvents.onTakeover` on that node). Resolves with the previous owner.
   */
  claim(connectionId: string, owner: string, secretHash: string): Promise<string | undefined>;
  /** The connection lost its transport: resumable for `ttl` ms, then forgotten (unless claimed). */
  suspend(connectionId: string, ttl: number): Promise<void>;
  setPresenceChannels(connectionId: string, channels: readonly string[]): Promise<void>;
  remove(connectionId: string): Promise<void>;
  /** Publishes the URL other nodes use to reach this node (comet requests are forwarded there). */
  advertise(url: string): Promise<void>;
  /** Where node `nodeId` is reached (its advertised URL) and whether it is alive. */
  node(nodeId: string): Promise<NodeAddress>;
}

export interface NodeAddress {
  url: string | undefined;
  alive: boolean;
}
