/** REST paging (TG): items of one page and the `Link` header's `next` and `first` relations. */
import type { HttpContext } from '../util/http.js';
import { getJson } from '../util/http.js';

export interface PaginatedResult<T> {
  items: T[];
  hasNext(): boolean;
  isLast(): boolean;
  next(): Promise<PaginatedResult<T> | null>;
  first(): Promise<PaginatedResult<T>>;
}

export interface PageRequest {
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

export async function getPage<W, T>(req: PageRequest, url: string, map: (item: W) => T): Promise<PaginatedResult<T>> {
  const { body, headers } = await getJson(req.http, url, {
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
