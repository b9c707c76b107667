/**
 * The chat demo (`demo` option): the built chat app (examples/chat) at `/` and `/demo/<file>`, and
 * its token endpoint `GET /demo/token?clientId=…`, which the page uses as its `authUrl`. The page
 * never sees an API key: the server issues it a short-lived token from the demo key, bound to the
 * clientId the visitor chose and limited to the chat rooms (`chat:*`: subscribe, publish,
 * presence, history). Anyone who reaches the server can get such a token, which is why the demo is
 * off unless asked for.
 */
import { AblyError, Err } from '@encke/protocol';
import type { ApiKey } from '../apps/app.js';
import { parseCapability, type Capability } from '../auth/capability.js';
import type { NodeContext } from '../context.js';
import { sendError, sendJson } from '../http/respond.js';
import type { HttpRequest, Router } from '../http/router.js';
import { loadSite, type StaticSite } from '../http/static.js';

/** The channels the chat uses, and all a demo token may touch. */
export const CHAT_NAMESPACE = 'chat';
export const DEMO_CAPABILITY: Capability = parseCapability({
  [`${CHAT_NAMESPACE}:*`]: ['subscribe', 'publish', 'presence', 'history'],
});
/** A demo token lives an hour; the page's client fetches the next one from the same endpoint. */
export const DEMO_TOKEN_TTL = 3_600_000;
/** A display name: letters or digits first, then letters, digits, spaces and `._'-`; 1 to 32 characters. */
export const DEMO_CLIENT_ID = /^[\p{L}\p{N}][\p{L}\p{N} ._'-]{0,31}$/u;

/** Where the demo takes its tokens from: the `demoKey` option, else the first key of the first app. */
export function demoKey(ctx: NodeContext): ApiKey | undefined {
  const named = ctx.options.demoKey;
  if (named !== undefined) return ctx.apps.findKey(named);
  for (const app of ctx.apps.all()) if (app.keys.length > 0) return app.keys[0];
  return undefined;
}

/** The clientId a visitor asked for, trimmed; 40012 unless it is a plain display name. */
export function parseDemoClientId(value: string | null): string {
  const id = (value ?? '').normalize('NFC').trim();
  if (!DEMO_CLIENT_ID.test(id)) {
    throw new AblyError(
      Err.invalidClientId,
      "Invalid clientId: 1 to 32 letters, digits, spaces or ._'- starting with a letter or digit",
    );
  }
  return id;
}

function issueDemoToken(ctx: NodeContext, http: HttpRequest): void {
  const key = demoKey(ctx);
  if (!key)
    throw new AblyError(
      Err.overloaded,
      'The demo has no key to issue tokens from: configure an app (or the demoKey option)',
    );
  const clientId = parseDemoClientId(http.url.searchParams.get('clientId'));
  const details = ctx.tokens.issue(key, { clientId, capability: DEMO_CAPABILITY, ttl: DEMO_TOKEN_TTL });
  sendJson(http.res, 200, details, { 'Cache-Control': 'no-store' });
}

/** Serves `name` from the chat site, or explains why the chat cannot be served. */
function serveFile(site: StaticSite | string, http: HttpRequest, name: string): void {
  if (typeof site === 'string') {
    throw new AblyError(Err.overloaded, `The chat demo is not available: ${site} (build it with npm run build)`);
  }
  if (!site.serve(http.req, http.res, name)) sendError(http.res, new AblyError(Err.notFound, `No such file: ${name}`));
}

/** Registers the demo's routes when the `demo` option is on; returns why the chat cannot be served, if it cannot. */
export function registerDemoRoutes(router: Router, ctx: NodeContext): string | undefined {
  if (!ctx.options.demo) return undefined;
  const dir = ctx.options.demoAssets;
  const site: StaticSite | string = dir === undefined ? 'no demoAssets directory was given' : loadSite(dir);
  const noCors = { cors: false };
  router.add('GET', '/', (http) => serveFile(site, http, 'index.html'), noCors);
  router.add('GET', '/demo/token', (http) => issueDemoToken(ctx, http), noCors);
  router.add('GET', '/demo/:file', (http) => serveFile(site, http, http.params.file!), noCors);
  return typeof site === 'string' ? site : undefined;
}
