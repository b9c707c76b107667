/**
 * The engine seam: everything that must be shared between nodes, as a few narrow stores (one file
 * each: channel-store.ts, auth-store.ts, connection-store.ts, stats-store.ts, app-store.ts). The
 * memory engine is the default and the reference; the Redis engine implements the same interfaces
 * and passes the same contract suite. The engine never imports sessions or transports: it stores,
 * orders and fans out, and tells the node what happened through the one `EngineEvents` handler the
 * node gives `start` (centrifuge's broker event handler).
 */
import type { AppStore } from './app-store.js';
import type { AuthStore, TokenRevocation } from './auth-store.js';
import type { ChannelEvent, ChannelKey, ChannelStore } from './channel-store.js';
import type { ConnectionStore } from './connection-store.js';
import type { StatsStore } from './stats-store.js';

/** What the engine tells the node, from `start` on. */
export interface EngineEvents {
  /** An event of a channel this node subscribed to; in log order per channel. */
  onChannelEvent(key: ChannelKey, event: ChannelEvent): void;
  /**
   * The engine may have missed events (its connection to shared state was lost and restored): the
   * node fetches, per channel, what came after the last event it saw.
   */
  onResync(): void;
  /** A token revocation made on any node (including this one). */
  onRevocation(revocation: TokenRevocation): void;
  /** Another node took over `connectionId`, which this node owned (a resume there). Shared engines only. */
  onTakeover(connectionId: string, newOwner: string): void;
}

export interface Engine {
  /**
   * Whether several nodes share this engine. A node reports its occupancy only to a shared engine;
   * with a single-node engine it answers from its own local channels.
   */
  readonly shared: boolean;
  readonly channels: ChannelStore;
  readonly auth: AuthStore;
  /** Present in engines shared between nodes; a single node keeps its connections to itself. */
  readonly connections?: ConnectionStore;
  readonly stats: StatsStore;
  readonly apps: AppStore;
  /** False while shared state is unreachable (the node's /ready answers 503). @default always true when absent */
  isReady?(): boolean;
  /**
   * Connects to shared state (nothing to connect to for the memory engine) and starts telling
   * `events` what happens; the node awaits it before listening.
   */
  start(events: EngineEvents): Promise<void>;
  close(): Promise<void>;
}
