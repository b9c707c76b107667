/**
 * Channel enumeration limited to what a capability may see (`GET /channels`). Nothing in an
 * answer, names, `next` cursor or whether there is a next page, may depend on a channel the key's
 * `channel-metadata` capability does not cover:
 *
 * - the engine is asked only for names under the literal prefixes of the resources that grant
 *   `channel-metadata` (`public:*` → `public:`), intersected with the requested `prefix`, so a
 *   prefix outside them finds nothing, whatever exists;
 * - every name is checked against the capability (patterns with a `*` in the middle, and exact
 *   names, have prefixes wider than themselves);
 * - the cursor is the last name returned (one the key may see), and `next` exists only when one
 *   more visible name was found.
 *
 * A capability whose visible names are sparse among invisible ones (a resource like `*:chat`)
 * stops after {@link MAX_SCANNED} invisible names in one request: the page ends there.
 */
import type { AuthContext } from '../auth/authenticate.js';
import { allows } from '../auth/capability.js';
import type { ChannelList } from '../engine/channel-store.js';

/** Names one request may read from the engine in all (visible or not). */
export const MAX_SCANNED = 10_000;
/** Names asked of the engine per page while scanning. */
const SCAN_PAGE = 500;

export type ListPage = (prefix: string, after: string | undefined, limit: number) => Promise<ChannelList>;

interface Source {
  prefix: string;
  /** The source is one exact name: it is the first name under its own prefix, if active at all. */
  exact: boolean;
}

/** The literal part of a resource pattern before its first `*`; exact for a pattern without one. */
function literalPrefix(resource: string): Source | undefined {
  // `[meta]…` and other qualified channels are never listed; `[*]rest` covers ordinary ones too.
  const rest = resource.startsWith('[*]') ? resource.slice(3) : resource;
  if (rest.startsWith('[')) return undefined;
  const star = rest.indexOf('*');
  return star < 0 ? { prefix: rest, exact: true } : { prefix: rest.slice(0, star), exact: false };
}

/** The engine queries that cover every channel `auth` may see under `requested`, none wider. */
export function listingSources(auth: AuthContext, requested: string): Source[] {
  const sources: Source[] = [];
  for (const [resource, ops] of auth.capability) {
    if (!ops.has('channel-metadata') && !ops.has('*')) continue;
    const source = literalPrefix(resource);
    if (!source) continue;
    if (source.prefix.startsWith(requested)) sources.push(source);
    else if (!source.exact && requested.startsWith(source.prefix)) sources.push({ prefix: requested, exact: false });
  }
  const unique = [...new Map(sources.map((s) => [`${s.exact ? '=' : '^'}${s.prefix}`, s])).values()];
  // A prefix query covers every narrower one, and the exact names under it.
  return unique.filter((s) => !unique.some((w) => w !== s && !w.exact && s.prefix.startsWith(w.prefix)));
}

/** Up to `want` visible names of one source after `after`, in order, within the scan budget. */
async function scan(
  source: Source,
  auth: AuthContext,
  page: ListPage,
  after: string | undefined,
  want: number,
  budget: { left: number },
): Promise<string[]> {
  if (source.exact) {
    if (after !== undefined && source.prefix <= after) return [];
    budget.left--;
    const first = (await page(source.prefix, after, 1)).names[0];
    return first === source.prefix && allows(auth.capability, first, 'channel-metadata') ? [first] : [];
  }
  const found: string[] = [];
  let cursor = after;
  while (found.length < want && budget.left > 0) {
    const limit = Math.min(SCAN_PAGE, budget.left);
    const { names, more } = await page(source.prefix, cursor, limit);
    budget.left -= names.length;
    for (const name of names) if (allows(auth.capability, name, 'channel-metadata')) found.push(name);
    if (!more || names.length === 0) break;
    cursor = names[names.length - 1];
  }
  return found.slice(0, want);
}

/** One page of the visible channels under `requested` after `after`: names and the next cursor. */
export async function listVisible(
  auth: AuthContext,
  page: ListPage,
  requested: string,
  after: string | undefined,
  limit: number,
): Promise<{ names: string[]; next: string | undefined }> {
  const budget = { left: MAX_SCANNED };
  const all = new Set<string>();
  for (const source of listingSources(auth, requested)) {
    for (const name of await scan(source, auth, page, after, limit + 1, budget)) all.add(name);
  }
  const sorted = [...all].sort();
  const names = sorted.slice(0, limit);
  return { names, next: sorted.length > limit ? names[names.length - 1] : undefined };
}
