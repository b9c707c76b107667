/** `GET /badge/<channel>`: the live occupancy badge (badge.ts). Credentials as for the SSE API. */
import { AblyError, Err } from '@encke/protocol';
import { requestCredentials } from '../../auth/credentials.js';
import type { NodeContext } from '../../context.js';
import type { HttpRequest, Router } from '../../http/router.js';
import { requestOrigin } from '../../http/origin.js';
import { parseConnectParams } from '../../session/connect-params.js';
import { openConnection } from '../../session/connect.js';
import { BadgeTransport } from './badge.js';

export function registerBadgeRoutes(router: Router, ctx: NodeContext): void {
  router.add('GET', '/badge/:channel', (r) => badge(ctx, r));
}

async function badge(ctx: NodeContext, r: HttpRequest): Promise<void> {
  const connect = parseConnectParams(new URLSearchParams(), r.secure, requestOrigin(r.req.headers));
  connect.credentials = requestCredentials(r.url.searchParams, r.req.headers.authorization);
  if (!connect.credentials) throw new AblyError(Err.invalidCredentials, 'No credentials: give key or accessToken');
  await openConnection(ctx, connect, new BadgeTransport(ctx, r.res, r.params.channel!));
}
