/**
 * What the tabs of one origin and the hub that holds their shared connection say to each other
 * (over a BroadcastChannel, or a SharedWorker's MessagePorts). Everything is structured-cloneable.
 * A tab's link speaks ProtocolMessages with the hub as it would with a server; the hub speaks the
 * real protocol upstream for all of them.
 */
import type { ProtocolMessage } from '@encke/protocol/types';

/** Which tabs hold each clientId entered on each channel: channel → clientId → tab ids. */
export type Holders = Record<string, Record<string, string[]>>;

/** A tab (its link) to the hub. */
export type ToHub =
  /** SharedWorker: the first tab's options start the hub's connection (functions cannot be sent). */
  | { t: 'init'; options: Record<string, unknown> }
  /**
   * A link opens (again): `clientId` is the tab's identity for presence and messages; `noEcho`: the
   * tab has `echoMessages: false` (the shared connection echoes for the other tabs; not to it).
   */
  | { t: 'open'; tab: string; clientId?: string; noEcho?: true }
  /** A ProtocolMessage from the tab's connection. */
  | { t: 'pm'; tab: string; pm: ProtocolMessage }
  /** The tab's link was dropped (not closed): the tab keeps its channels and presence, and comes back. */
  | { t: 'bye'; tab: string };

/** The hub to a tab (`to`), or to every tab. */
export type ToTab =
  /** A ProtocolMessage for the tab; `transport`: the shared connection's transport (with CONNECTED). */
  | { t: 'pm'; to: string; hub: string; pm: ProtocolMessage; transport?: string }
  /** The shared connection was lost: the tab's link ends with this error (and the tab reconnects). */
  | { t: 'lost'; to: string; hub: string; error: WireError; fatal: boolean }
  /** A hub started (a new leader): links waiting for one open again, links with an older one reconnect. */
  | { t: 'leader'; hub: string }
  /**
   * The leader's recovery key and presence holders (leader mode): the next leader continues the
   * connection from them. `tab`: the leader's own tab (gone when the next one takes over).
   */
  | { t: 'state'; hub: string; tab: string; recoveryKey: string; holders: Holders };

export interface WireError {
  message: string;
  code: number;
  statusCode: number;
}

/** Where a hub posts what it says to tabs. */
export type TabPost = (msg: ToTab) => void;

/**
 * Whether channelSerial `a` comes before `b`. encke's serials are `<epoch>-<seq>` with a
 * fixed-width seq, so serials of one epoch sort as strings; serials of different epochs (or of
 * another server's format) are not comparable and never count as before.
 */
export function before(a: string, b: string): boolean {
  const epoch = (s: string): string => s.slice(0, s.indexOf('-'));
  return a.length === b.length && epoch(a) === epoch(b) && a < b;
}

/** The group of tabs that share one connection: same server, format and credentials' name (never a secret). */
export function groupName(o: {
  tls: boolean;
  host: string;
  port: number;
  format: string;
  key?: string;
  authUrl?: string;
}): string {
  const who = o.key ? o.key.slice(0, o.key.indexOf(':')) : (o.authUrl ?? 'token');
  return `encke:${o.tls ? 'wss' : 'ws'}://${o.host}:${o.port}/${o.format}/${who}`;
}
