/**
 * Turns the admin dashboard on when `adminPassword` is set: the admin app, the `/admin` routes, and
 * the snapshot publisher (started and stopped with the node). The dashboard page itself is the
 * `@encke/dashboard` package (built by esbuild), served from its `dist` folder.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { NodeContext } from '../context.js';
import type { Router } from '../http/router.js';
import { loadSite, type StaticSite } from '../http/static.js';
import { buildAdminApp } from './admin-app.js';
import { metricsReader } from './metrics-source.js';
import { DashboardPublisher } from './publisher.js';
import { registerAdminRoutes } from './routes.js';

/** The built dashboard: `dist/` of the @encke/dashboard package, or why it is not there. */
export function dashboardSite(): StaticSite | string {
  let dir: string;
  try {
    dir = join(dirname(createRequire(import.meta.url).resolve('@encke/dashboard/package.json')), 'dist');
  } catch {
    return 'the @encke/dashboard package is not installed';
  }
  return loadSite(dir);
}

export interface Admin {
  readonly publisher: DashboardPublisher;
  /** Why the dashboard page cannot be served (not built), if it cannot. */
  readonly problem: string | undefined;
}

/** Sets up the dashboard when `adminPassword` is set; undefined when it is off. */
export function setupAdmin(router: Router, ctx: NodeContext): Admin | undefined {
  const password = ctx.options.adminPassword;
  if (password === undefined) return undefined;
  const app = buildAdminApp(password);
  ctx.apps.addInternal(app);
  const site = dashboardSite();
  registerAdminRoutes(router, ctx, { site, app, password });
  return {
    publisher: new DashboardPublisher(ctx, app, metricsReader(ctx)),
    problem: typeof site === 'string' ? site : undefined,
  };
}
