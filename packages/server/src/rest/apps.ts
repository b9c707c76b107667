/**
 * Sandbox provisioning (only with `sandbox: true`): `POST /apps` creates an app from an app
 * description (no credentials, like Ably's sandbox) and answers its keys; `DELETE /apps/<appId>`
 * with basic auth of the app's first key removes it. Apps live in the engine's app store, so every
 * node serves them; they expire after `sandboxAppTtl`.
 */
import { AblyError, Err, PresenceAction, parsePresenceMessage, type Format } from '@encke/protocol';
import type { ChannelFixture } from '../apps/record.js';
import { describeApp, parseAppDescription, type SandboxEndpoint } from '../apps/sandbox.js';
import { channelKey } from '../engine/channel-store.js';
import type { AuthContext } from '../auth/authenticate.js';
import { responseFormat, sendBody } from '../http/body.js';
import type { HttpRequest, Router } from '../http/router.js';
import type { NodeContext } from '../context.js';
import { randomAlnum } from '../util/ids.js';
import { appRoute, readSandboxBody } from './request.js';

/** Attempts at a fresh random app id before giving up (ids are 10 random characters). */
const APP_ID_ATTEMPTS = 5;

export function registerAppRoutes(router: Router, ctx: NodeContext): void {
  if (!ctx.options.sandbox) return;
  router.add('POST', '/apps', (http) => createApp(ctx, http), { cors: false });
  appRoute(router, ctx, 'DELETE', '/apps/:appId', (http, auth) => deleteApp(ctx, http, auth), { cors: false });
}

/** The host the client used to reach this server (Host header), its port and scheme. */
function endpointOf(http: HttpRequest): SandboxEndpoint {
  let endpoint = http.req.socket.localAddress ?? '127.0.0.1';
  try {
    if (http.req.headers.host)
      endpoint = new URL(`http://${http.req.headers.host}`).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    // A malformed Host header: fall back to the socket's address.
  }
  return { endpoint, port: http.req.socket.localPort ?? 0, tls: http.secure };
}

async function createApp(ctx: NodeContext, http: HttpRequest): Promise<void> {
  const body = await readSandboxBody(ctx, http);
  const now = ctx.clock.now();
  for (let attempt = 0; attempt < APP_ID_ATTEMPTS; attempt++) {
    const appId = randomAlnum(10);
    if (ctx.apps.get(appId)) continue;
    const app = parseAppDescription(body, appId, now, ctx.options.sandboxAppTtl);
    const result = await ctx.engine.apps.create(app.record, ctx.options.sandboxMaxApps);
    if (result === 'full')
      throw new AblyError(
        Err.forbidden,
        `At most ${ctx.options.sandboxMaxApps} sandbox apps may exist; delete some first`,
      );
    if (result === 'exists') continue;
    await seedPresence(ctx, appId, app.record.channels ?? []);
    ctx.logger.info({ appId, keys: app.record.config.keys.length }, 'sandbox app created');
    const format: Format = responseFormat(http.req);
    sendBody(http.res, 201, describeApp(app, endpointOf(http)), format);
    return;
  }
  throw new AblyError(Err.internal, 'Could not find a free app id');
}

/**
 * Enters the members an app description asks for, as one connection that never closes (real Ably's
 * fixture channel `persisted:presence_fixtures` has six members sharing one connectionId).
 */
async function seedPresence(ctx: NodeContext, appId: string, channels: readonly ChannelFixture[]): Promise<void> {
  const now = ctx.clock.now();
  for (const channel of channels) {
    if (channel.presence.length === 0) continue;
    const connectionId = `fixture${randomAlnum(5)}`;
    const presence = channel.presence.map((m, i) =>
      parsePresenceMessage({
        ...m,
        action: PresenceAction.ENTER,
        connectionId,
        id: `${connectionId}:0:${i}`,
        timestamp: now,
      }),
    );
    await ctx.engine.channels.presence(
      channelKey(appId, channel.name),
      { kind: 'presence', connectionId, timestamp: now, presence },
      { maxMembers: ctx.options.presenceMaxMembers },
    );
  }
}

async function deleteApp(ctx: NodeContext, http: HttpRequest, auth: AuthContext): Promise<void> {
  const appId = http.params.appId!;
  if (auth.method !== 'basic')
    throw new AblyError(Err.basicAuthRequired, 'Deleting an app requires basic auth with its first key');
  // The same answer whether or not the app exists: a key only ever learns about its own app.
  if (auth.app.id !== appId || auth.keyName !== auth.app.keys[0]?.name) {
    throw new AblyError(Err.forbidden, 'Deleting an app requires basic auth with its first key');
  }
  if (ctx.apps.get(appId))
    throw new AblyError(Err.forbidden, 'Only sandbox apps can be deleted; this app is configured');
  await ctx.engine.apps.delete(appId);
  ctx.apps.remove(appId);
  const gone = new AblyError(Err.invalidCredentials, 'The app has been deleted');
  for (const session of [...ctx.sessions.values()]) if (session.appId === appId) session.fail(gone);
  ctx.logger.info({ appId }, 'sandbox app deleted');
  http.res.writeHead(204).end();
}
