/** REST paging (TG): items of one page and the `Link` header's `next` and `first` relations. Loaded on first use. */
import type { EntriesOf } from '../util/unknown.js';
import type { PresenceMessage as WirePresence } from '@encke/protocol/types';
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
  if (kind === 'messages') return getPage(req, url, req.kit.decodeMessage);
  return getPage(req, url, (p: WirePresence) => decodePresence(req.kit, p));
}

export async function getPage<W, T>(req: PageRequest, url: string, map: (item: W) => T): Promise<PaginatedResult<T>> {
  const { body, headers } = await getJson(req.kit, req.http, url, {
    headers: { authorization: await req.header(), accept: 'application/json' },
    timeoutMs: req.timeoutMs,
  });
  const rel = links(headers.get('link'), url);
  const items = (Array.isArray(body) ? (body as W[]) : []).map(map);
  const next = rel['next'];
  return {
    items,
    hasNext: () => next !== undefined,
    isLast: () => next === undefined,
    next: () => (next === undefined ? Promise.resolve(null) : getPage(req, next, map)),
    first: () => getPage(req, rel['first'] ?? url, map),
  };
}
