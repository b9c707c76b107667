/**
 * The admin dashboard's feed: what each node publishes, every `adminPublishInterval`, on the
 * `dashboard` channel of the server's internal admin app (message name `snapshot`, JSON data).
 * The dashboard page (packages/dashboard) subscribes to it with @encke/client, so it hears every
 * node of a cluster. Counters are cumulative since the node started; the page derives rates from
 * consecutive snapshots of the same node (and notices a restart when `node.startedAt` changes).
 */

/** The server's internal app that carries the feed, and the feed's channel in it. */
export const DASHBOARD_APP = 'encke-admin';
export const DASHBOARD_CHANNEL = 'dashboard';
/** The message name of a snapshot on the dashboard channel. */
export const DASHBOARD_SNAPSHOT = 'snapshot';
/** The snapshot format; a page ignores snapshots of a version it does not know. */
export const DASHBOARD_VERSION = 1;

export interface DashboardSnapshot {
  version: typeof DASHBOARD_VERSION;
  /** Server time of the snapshot (ms). */
  at: number;
  /** ms between this node's snapshots. */
  interval: number;
  node: DashboardNode;
  /** The numbers `/metrics` exports (the same counters, read at the same moment). */
  metrics: DashboardMetrics;
  /** A title for each error code in `metrics.errors`. */
  errorTitles: Record<string, string>;
  /** This node's channels with attachments: how many, and the busiest (bounded list). */
  channels: { total: number; listed: DashboardChannel[] };
  /** Configured apps and their keys (names and capabilities; never secrets), with this node's connections. */
  apps: DashboardApp[];
}

export interface DashboardNode {
  id: string;
  /** When the node started (ms): a change means a restart (counters start again). */
  startedAt: number;
  /** `memory` (one node) or `redis` (a cluster). */
  engine: string;
  /** CPU time used over the last interval, as a fraction of one core. */
  cpu: number;
  /** Resident set size and V8 heap in use (bytes). */
  rss: number;
  heapUsed: number;
  /** Mean event-loop delay over the last interval (ms): how late timers fire under load. */
  eventLoopDelay: number;
}

export interface DashboardMetrics {
  /** Connections with a transport, by transport then format (`json`, `msgpack`). */
  connections: Record<string, Record<string, number>>;
  /** Connections held for a resume, without a transport. */
  resumable: number;
  /** Messages accepted for publishing (realtime and REST), cumulative. */
  messagesIn: number;
  /** Messages and presence messages sent to clients, cumulative. */
  messagesOut: number;
  /** Errors sent to clients by Ably error code, cumulative. */
  errors: Record<string, number>;
}

export interface DashboardChannel {
  app: string;
  name: string;
  /** This node's attachments, by what their modes permit. */
  connections: number;
  subscribers: number;
  publishers: number;
  /** Presence members (the whole channel's, not this node's); null when not counted (only the busiest are). */
  presenceMembers: number | null;
  /** Messages published on the channel (as this node received them), and messages and presence messages delivered to its subscribers here (cumulative). */
  messagesIn: number;
  messagesOut: number;
}

export interface DashboardApp {
  id: string;
  keys: DashboardKey[];
  /** This node's connections of the app. */
  connections: number;
  tlsOnly: boolean;
}

export interface DashboardKey {
  /** `appId.keyId`: the public half of the key. */
  name: string;
  /** Canonical capability JSON. */
  capability: string;
  revocableTokens: boolean;
}
