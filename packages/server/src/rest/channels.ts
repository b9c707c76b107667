/**
 * Channel metadata: `GET /channels/<name>` (ChannelDetails: status and occupancy, RSL8) and
 * `GET /channels` (enumeration of active channels, by `prefix`, paged by name). Both need the
 * `channel-metadata` capability; enumeration lists only channels it covers.
 *
 * A channel is active while some connection is attached to it (on any node), its log holds
 * events, or it has presence members.
 */
import { AblyError, Err } from '@encke/protocol';
import type { AuthContext } from '../auth/authenticate.js';
import { validateChannelName } from '../channels/names.js';
import { channelKey, noOccupancy, type ChannelList } from '../engine/channel-store.js';
import type { HttpRequest, Router } from '../http/router.js';
import type { NodeContext } from '../context.js';
import { listVisible } from './channel-listing.js';
import { pageLinks, parseLimit } from './query.js';
import { appRoute, reply, requireCapability } from './request.js';

export function registerChannelRoutes(router: Router, ctx: NodeContext): void {
  appRoute(router, ctx, 'GET', '/channels/:channel', (http, auth) => channelStatus(ctx, http, auth));
  appRoute(router, ctx, 'GET', '/channels', (http, auth) => listChannels(ctx, http, auth));
}

async function channelDetails(ctx: NodeContext, appId: string, name: string): Promise<object> {
  const key = channelKey(appId, name);
  const store = ctx.engine.channels;
  // A shared engine sums every node's reports; a single node answers from its own channels.
  const [occupancy, members] = await Promise.all([
    ctx.engine.shared ? store.occupancy(key) : ctx.channels.occupancy(appId, name),
    store.members(key),
  ]);
  const isActive =
    occupancy !== null ||
    members.length > 0 ||
    (await store.readLast(key, 'message', 1)).length > 0 ||
    (await store.readLast(key, 'presence', 1)).length > 0;
  const metrics = { ...(occupancy ?? noOccupancy()), presenceMembers: members.length };
  return { channelId: name, name, status: { isActive, occupancy: { metrics } } };
}

async function channelStatus(ctx: NodeContext, http: HttpRequest, auth: AuthContext): Promise<void> {
  const name = http.params.channel!;
  validateChannelName(name, ctx.options.maxChannelNameLength);
  requireCapability(auth, name, 'channel-metadata');
  reply(http, 200, await channelDetails(ctx, auth.app.id, name));
}

/** Whether the capability grants channel-metadata on any resource at all. */
function grantsMetadata(auth: AuthContext): boolean {
  for (const ops of auth.capability.values()) if (ops.has('channel-metadata') || ops.has('*')) return true;
  return false;
}

/** Active channels: the engine's, and (with a single-node engine) those attached on this node. */
async function activeChannels(
  ctx: NodeContext,
  appId: string,
  prefix: string,
  after: string | undefined,
  limit: number,
): Promise<ChannelList> {
  const page = await ctx.engine.channels.list(appId, { prefix, after, limit });
  if (ctx.engine.shared) return page;
  const names = [...new Set([...page.names, ...ctx.channels.names(appId, prefix, after)])].sort();
  // Local names past the engine's last may hide unread engine names, so the page ends at the first limit.
  return { names: names.slice(0, limit), more: page.more || names.length > limit };
}

async function listChannels(ctx: NodeContext, http: HttpRequest, auth: AuthContext): Promise<void> {
  if (!grantsMetadata(auth))
    throw new AblyError(Err.capabilityDenied, 'Permission denied: channel-metadata is not permitted on any channel');
  const q = http.url.searchParams;
  const limit = parseLimit(q);
  const by = q.get('by') ?? 'value';
  if (by !== 'value' && by !== 'id')
    throw new AblyError(
      Err.invalidParameterValue,
      `Invalid by ${JSON.stringify(by.slice(0, 20))}: expected value or id`,
    );
  const prefix = q.get('prefix') ?? '';
  const after = q.get('cursor') ?? undefined;
  const appId = auth.app.id;
  const { names, next } = await listVisible(
    auth,
    (p, a, l) => activeChannels(ctx, appId, p, a, l),
    prefix,
    after,
    limit,
  );
  const items = by === 'id' ? names : await Promise.all(names.map((name) => channelDetails(ctx, appId, name)));
  reply(http, 200, items, { Link: pageLinks('channels', http.url, { limit: String(limit), by }, next) });
}
