/**
 * What the tabs of one origin and the hub that holds their shared connection say to each other
 * (over a BroadcastChannel, or a SharedWorker's MessagePorts). Everything is structured-cloneable.
 * A tab's link speaks ProtocolMessages with the hub as it would with a server; the hub speaks the
 * real protocol upstream for all of them.
 */
import type { ProtocolMessage } from '@encke/protocol/types';
import type { TransportName } from '../transports/names.js';
import type { IsArrayValue } from '../util/unknown.js';

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

// What comes over a BroadcastChannel or a SharedWorker's port is checked, not cast: any script of
// the origin can post there. A message of another shape is ignored.

type Fields = Record<string, unknown>;
const isFields = (v: unknown): v is Fields => typeof v == 'object' && v !== null && !(Array.isArray as IsArrayValue)(v);
const isString = (v: unknown): v is string => typeof v == 'string';
const isStrings = (v: unknown): boolean => (Array.isArray as IsArrayValue)(v) && v.every(isString);
const isRecordOf = (v: unknown, is: (x: unknown) => boolean): boolean => isFields(v) && Object.values(v).every(is);
/** A ProtocolMessage as the codec checks one from a server (codec/codec.ts): an object with a numeric action. */
const isPm = (v: unknown): v is ProtocolMessage => isFields(v) && typeof v.action == 'number';

/**
 * The transport names (names.ts's TRANSPORTS, checked complete by the type): a copy, as importing that
 * list here would move it into a chunk of its own that the core loads (~130 B min+gzip, docs/client.md).
 */
const NAMES: Record<TransportName, 1> = {
  web_socket: 1,
  xhr_streaming: 1,
  xhr_polling: 1,
  polling: 1,
  sse: 1,
  jsonp: 1,
  iframe: 1,
  multipart: 1,
};

/** One of the transports a link can name as the shared connection's (a hub says which with CONNECTED). */
export const isTransportName = (v: unknown): v is TransportName => isString(v) && Object.hasOwn(NAMES, v);

/** A tab's message, as a hub takes it. */
export function isToHub(m: unknown): m is ToHub {
  if (!isFields(m)) return false;
  if (m.t === 'init') return isFields(m.options);
  if (!isString(m.tab)) return false;
  if (m.t === 'open') return (m.clientId === undefined || isString(m.clientId)) && (m.noEcho ?? true) === true;
  return m.t === 'bye' || (m.t === 'pm' && isPm(m.pm));
}

/** A hub's message, as a tab's link takes it. */
export function isToTab(m: unknown): m is ToTab {
  if (!isFields(m) || !isString(m.hub)) return false;
  if (m.t === 'leader') return true;
  if (m.t === 'state')
    return isString(m.tab) && isString(m.recoveryKey) && isRecordOf(m.holders, (c) => isRecordOf(c, isStrings));
  if (!isString(m.to)) return false;
  if (m.t === 'pm') return isPm(m.pm) && (m.transport === undefined || isString(m.transport));
  const e = m.error;
  return (
    m.t === 'lost' &&
    typeof m.fatal == 'boolean' &&
    isFields(e) &&
    isString(e.message) &&
    typeof e.code == 'number' &&
    typeof e.statusCode == 'number'
  );
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
