/**
 * REST endpoints (protocol fact sheet §5). Each group of endpoints lives in its own file and
 * registers its routes here.
 */
import type { NodeContext } from '../context.js';
import { reply } from './request.js';
import type { Router } from '../http/router.js';
import { registerTokenRoutes } from './tokens.js';
import { registerAppRoutes } from './apps.js';
import { registerChannelRoutes } from './channels.js';
import { registerHistoryRoutes } from './history.js';
import { registerMessageRoutes } from './messages.js';
import { registerPresenceRoutes } from './presence.js';
import { registerPublishRoutes } from './publish.js';
import { registerStatsRoutes } from './stats.js';

export function registerRestRoutes(router: Router, ctx: NodeContext): void {
  // No auth: ably-js uses it for queryTime and token timestamps (always asking for JSON). One value
  // in the format Accept asks for: `rest.request('get', '/time')` over msgpack decodes msgpack.
  router.add('GET', '/time', (http) => reply(http, 200, [ctx.clock.now()]));
  registerTokenRoutes(router, ctx);
  registerPublishRoutes(router, ctx);
  registerHistoryRoutes(router, ctx);
  registerMessageRoutes(router, ctx);
  registerPresenceRoutes(router, ctx);
  registerChannelRoutes(router, ctx);
  registerStatsRoutes(router, ctx);
  registerAppRoutes(router, ctx);
}
