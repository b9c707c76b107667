/**
 * The admin app: an app of the server's own that carries the dashboard feed, so that the dashboard
 * is one more encke client (dogfood) and hears every node of a cluster through the engine. Its key
 * secret is derived from the admin password, so every node configured with the same password has
 * the same key and verifies the others' tokens; the secret never leaves the server (the dashboard
 * page gets tokens for `dashboard`, subscribe only).
 */
import { createHmac } from 'node:crypto';
import { DASHBOARD_APP, DASHBOARD_CHANNEL } from '@encke/protocol';
import type { App } from '../apps/app.js';
import { buildApp } from '../apps/config.js';
import type { AuthContext } from '../auth/authenticate.js';
import { parseCapability, type Capability } from '../auth/capability.js';

/** The admin app's id (configured apps may not use it: the registry refuses a duplicate id) and its key. */
export const ADMIN_APP_ID = DASHBOARD_APP;
export const ADMIN_KEY_ID = 'dashboard';
export { DASHBOARD_CHANNEL };
/** What a dashboard page's token allows: hearing the feed, nothing else. */
export const VIEWER_CAPABILITY: Capability = parseCapability({ [DASHBOARD_CHANNEL]: ['subscribe'] });

/** A secret derived from the password for one purpose (`purpose` keeps the derived secrets apart). */
export function derivedSecret(password: string, purpose: string): string {
  return createHmac('sha256', password).update(`encke admin: ${purpose}`).digest('base64url');
}

export function buildAdminApp(password: string): App {
  const secret = derivedSecret(password, 'app key');
  return buildApp(
    {
      id: ADMIN_APP_ID,
      keys: [
        {
          key: `${ADMIN_APP_ID}.${ADMIN_KEY_ID}:${secret}`,
          capability: { [DASHBOARD_CHANNEL]: ['subscribe', 'publish'] },
        },
      ],
    },
    'admin app',
  );
}

/** How the node itself publishes on the admin app (a server-side publish, like REST with the key). */
export function publisherAuth(app: App): AuthContext {
  const key = app.keys[0]!;
  return { app, keyName: key.name, capability: key.capability, method: 'basic', clientId: undefined };
}
