/**
 * How a tab's links reach the hub: a BroadcastChannel shared with the leader tab (leader.ts), or
 * the port of a SharedWorker (worker-port.ts). One per client; it outlives each link.
 */
import type { ToHub, ToTab } from './wire.js';

export interface Medium {
  /** This tab's id (stable for the client's life: the hub keeps the tab's channels and presence by it). */
  readonly tab: string;
  post(msg: ToHub): void;
  /** Hears what hubs say (to this tab, or to every tab); returns a function that stops listening. */
  listen(fn: (msg: ToTab) => void): () => void;
  /** The client is closed: leave (a leader hands the connection over). */
  dispose(): void;
}
