/**
 * Presence over REST: `GET /channels/<name>/presence` (the member set, RSP3) and
 * `GET /presence?channels=a,b` (batch presence). Getting the presence set needs the `subscribe`
 * capability (Ably: "subscribe … and get the presence set"); members are paged by member key, so
 * a page never repeats a member however the set changes meanwhile.
 */
import { AblyError, Err, itemForJson, type PresenceMessage } from '@encke/protocol';
import type { AuthContext } from '../auth/authenticate.js';
import { allows } from '../auth/capability.js';
import { validateChannelName } from '../channels/names.js';
import { channelKey } from '../engine/channel-store.js';
import { memberKey } from '../engine/presence-set.js';
import type { HttpRequest, Router } from '../http/router.js';
import type { NodeContext } from '../context.js';
import { pageLinks, parseLimit } from './query.js';
import { appRoute, outputFormat, reply, requireCapability } from './request.js';

/** Channels one batch presence request may name. */
const MAX_BATCH_CHANNELS = 100;

export function registerPresenceRoutes(router: Router, ctx: NodeContext): void {
  appRoute(router, ctx, 'GET', '/channels/:channel/presence', (http, auth) => presenceGet(ctx, http, auth));
  appRoute(router, ctx, 'GET', '/presence', (http, auth) => batchPresence(ctx, http, auth));
}

function sortKey(m: PresenceMessage): string {
  return memberKey(m.connectionId, m.clientId);
}

/** Members of `name`, filtered by `clientId` / `connectionId`, in member-key order. */
async function membersOf(
  ctx: NodeContext,
  appId: string,
  name: string,
  q: URLSearchParams,
): Promise<PresenceMessage[]> {
  const clientId = q.get('clientId');
  const connectionId = q.get('connectionId');
  const members = await ctx.engine.channels.members(channelKey(appId, name));
  return members
    .filter(
      (m) =>
        (clientId === null || m.clientId === clientId) && (connectionId === null || m.connectionId === connectionId),
    )
    .sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
}

function forWire(http: HttpRequest, members: PresenceMessage[]): PresenceMessage[] {
  return outputFormat(http) === 'json' ? members.map(itemForJson) : members;
}

async function presenceGet(ctx: NodeContext, http: HttpRequest, auth: AuthContext): Promise<void> {
  const name = http.params.channel!;
  validateChannelName(name, ctx.options.maxChannelNameLength);
  requireCapability(auth, name, 'subscribe');
  const q = http.url.searchParams;
  const limit = parseLimit(q);
  const cursor = q.get('cursor');
  const after = cursor === null ? undefined : Buffer.from(cursor, 'base64url').toString('utf8');
  let members = await membersOf(ctx, auth.app.id, name, q);
  if (after !== undefined) members = members.filter((m) => sortKey(m) > after);
  const page = members.slice(0, limit);
  const last = page[page.length - 1];
  const next = members.length > limit && last ? Buffer.from(sortKey(last), 'utf8').toString('base64url') : undefined;
  reply(http, 200, forWire(http, page), { Link: pageLinks('presence', http.url, { limit: String(limit) }, next) });
}

async function batchPresence(ctx: NodeContext, http: HttpRequest, auth: AuthContext): Promise<void> {
  const names = (http.url.searchParams.get('channels') ?? '').split(',').filter((n) => n !== '');
  if (names.length === 0)
    throw new AblyError(Err.invalidParameterValue, 'Batch presence needs channels=<name>,<name>…');
  if (names.length > MAX_BATCH_CHANNELS)
    throw new AblyError(Err.batchError, `At most ${MAX_BATCH_CHANNELS} channels per batch presence request`);
  const results = await Promise.all(
    names.map(async (channel) => {
      try {
        validateChannelName(channel, ctx.options.maxChannelNameLength);
        if (!allows(auth.capability, channel, 'subscribe')) {
          throw new AblyError(
            Err.capabilityDenied,
            `Permission denied: subscribe not permitted on channel "${channel}"`,
          );
        }
        return { channel, presence: forWire(http, await membersOf(ctx, auth.app.id, channel, new URLSearchParams())) };
      } catch (err) {
        return { channel, error: AblyError.from(err).toErrorInfo() };
      }
    }),
  );
  const failureCount = results.filter((r) => 'error' in r).length;
  reply(http, 200, { successCount: results.length - failureCount, failureCount, results });
}
