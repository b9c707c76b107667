/** REST paging (TG): items of one page and the `Link` header's `next` and `first` relations. Loaded on first use. */
import type { EntriesOf, IsArrayValue } from '../util/unknown.js';
import type { Message as WireMessage, PresenceMessage as WirePresence } from '@encke/protocol/types';
import type { Kit } from '../kit.js';
import { getJson } from '../util/json-request.js';
import type { Message, PresenceMessage } from './message.js';
import { decodePresence } from './presence-message.js';
import type { HttpContext } from '../util/http.js';

export interface PaginatedResult<T> {
  items: T[];
  hasNext(): boolean;
  isLast(): boolean;
  next(): Promise<PaginatedResult<T> | null>;
  first(): Promise<PaginatedResult<T>>;
}

export interface PageRequest {
  kit: Kit;
  http: HttpContext;
  header: () => Promise<string>;
  timeoutMs: number;
}

function links(header: string | null, base: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(',')) {
    const m = /<([^>]*)>\s*;\s*rel="?([a-z]+)"?/.exec(part.trim());
    if (m?.[1] !== undefined && m[2]) out[m[2]] = new URL(m[1], base).toString();
  }
  return out;
}

/** The wire type of each field of a history item that has one (`data` is anything JSON carries). */
const FIELDS: Record<string, string> = {
  id: 'string',
  name: 'string',
  clientId: 'string',
  connectionId: 'string',
  connectionKey: 'string',
  encoding: 'string',
  serial: 'string',
  timestamp: 'number',
  action: 'number',
  extras: 'object',
  version: 'object',
  annotations: 'object',
};

/** A history item from the network: an object whose fields have their wire types (none null). */
function isItem(v: unknown): v is WireMessage {
  return (
    typeof v == 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    (Object.entries as EntriesOf)(v).every(([k, x]) => x !== null && typeof x == (FIELDS[k] ?? typeof x))
  );
}

/** A presence history item: one with its action. */
const isPresence = (v: unknown): v is WirePresence => isItem(v) && typeof v.action == 'number';

/** Channel history (`/messages`) or presence history (`/presence/history`), with its params as query. */
export function history(
  req: PageRequest,
  baseUrl: string,
  channel: string,
  kind: 'messages',
  params: object,
): Promise<PaginatedResult<Message>>;
export function history(
  req: PageRequest,
  baseUrl: string,
  channel: string,
  kind: 'presence/history',
  params: object,
): Promise<PaginatedResult<PresenceMessage>>;
export function history(
  req: PageRequest,
  baseUrl: string,
  channel: string,
  kind: string,
  params: object,
): Promise<PaginatedResult<Message | PresenceMessage>> {
  const q = new URLSearchParams();
  for (const [k, v] of (Object.entries as EntriesOf)(params)) if (v !== undefined) q.set(k, String(v));
  const url = `${baseUrl}/channels/${encodeURIComponent(channel)}/${kind}?${q.toString()}`;
  if (kind === 'messages') return getPage(req, url, isItem, req.kit.decodeMessage);
  return getPage(req, url, isPresence, (p) => decodePresence(req.kit, p));
}

export async function getPage<W, T>(
  req: PageRequest,
  url: string,
  is: (item: unknown) => item is W,
  map: (item: W) => T,
): Promise<PaginatedResult<T>> {
  const { body, headers } = await getJson(req.kit, req.http, url, {
    headers: { authorization: await req.header(), accept: 'application/json' },
    timeoutMs: req.timeoutMs,
  });
  const rel = links(headers.get('link'), url);
  // The network's answer, checked as a malformed answer is (getJson): an array of items (none if empty).
  const list = body === undefined ? [] : body;
  if (!(Array.isArray as IsArrayValue)(list) || !list.every(is))
    throw req.kit.ErrorInfo.of(req.kit.Err.internal, 'History answered JSON that is no array of items');
  const items = list.map(map);
  const next = rel['next'];
  return {
    items,
    hasNext: () => next !== undefined,
    isLast: () => next === undefined,
    next: () => (next === undefined ? Promise.resolve(null) : getPage(req, next, is, map)),
    first: () => getPage(req, rel['first'] ?? url, is, map),
  };
}
