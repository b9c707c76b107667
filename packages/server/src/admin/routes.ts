/**
 * The admin dashboard's HTTP side (`adminPassword` set): `GET /admin` (the dashboard with a valid
 * session, else the login page with 401), its static files, `POST /admin/login` (password →
 * session cookie), `POST /admin/logout`, and `GET /admin/token`, the dashboard page's `authUrl`: a
 * token of the admin app that may only subscribe to the dashboard feed. None of these routes
 * allows other origins (no CORS), and nothing here answers any data without a session.
 */
import { AblyError, Err, isPlainObject, parseJson } from '@encke/protocol';
import type { App } from '../apps/app.js';
import { secretsEqual } from '../auth/secret.js';
import type { NodeContext } from '../context.js';
import { readBody } from '../http/body.js';
import { sendError, sendJson } from '../http/respond.js';
import type { HttpRequest, Router } from '../http/router.js';
import type { StaticSite } from '../http/static.js';
import { VIEWER_CAPABILITY } from './admin-app.js';
import { AdminSessions } from './session-cookie.js';

/** Largest login body read: a password and a little form or JSON around it. */
export const LOGIN_BODY_LIMIT = 4096;
/** Failed logins one node accepts per window before it refuses every login for the rest of it (42910). */
export const LOGIN_FAILURES_PER_WINDOW = 10;
export const LOGIN_WINDOW = 10_000;
/** A dashboard token lives an hour; the page's client fetches the next one from the same endpoint. */
export const VIEWER_TOKEN_TTL = 3_600_000;

/** Counts failed logins per window, so that guessing the password is slow. */
class LoginThrottle {
  private windowStart = 0;
  private failures = 0;

  check(now: number): void {
    if (now - this.windowStart >= LOGIN_WINDOW) {
      this.windowStart = now;
      this.failures = 0;
    }
    if (this.failures >= LOGIN_FAILURES_PER_WINDOW)
      throw new AblyError(Err.rateLimited, 'Too many failed logins: try again in a few seconds');
  }

  failed(): void {
    this.failures++;
  }
}

/** The password of a login body: form-encoded `password=…` or JSON `{"password": …}`. */
export function loginPassword(body: Buffer, contentType: string | undefined): string {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const text = body.toString('utf8');
  let password: unknown;
  if (type === 'application/x-www-form-urlencoded') password = new URLSearchParams(text).get('password');
  else if (type === 'application/json') {
    let value: unknown;
    try {
      value = parseJson(text) as unknown;
    } catch {
      throw new AblyError(Err.invalidRequestBody, 'Login body is not valid JSON');
    }
    password = isPlainObject(value) ? value.password : undefined;
  } else
    throw new AblyError(Err.unsupportedMediaType, 'Log in with a form (application/x-www-form-urlencoded) or JSON');
  if (typeof password !== 'string' || password.length === 0)
    throw new AblyError(Err.invalidRequestBody, 'Login needs a password');
  return password;
}

const wantsJson = (http: HttpRequest): boolean => (http.req.headers.accept ?? '').includes('application/json');

/** Answers a login or logout: 204 to a script that asked for JSON, else a redirect to the dashboard. */
function done(http: HttpRequest, cookie: string): void {
  if (wantsJson(http)) http.res.writeHead(204, { 'Set-Cookie': cookie, 'Cache-Control': 'no-store' }).end();
  else http.res.writeHead(303, { 'Set-Cookie': cookie, Location: '/admin', 'Cache-Control': 'no-store' }).end();
}

export interface AdminSite {
  /** The built dashboard (packages/dashboard), or why it cannot be served. */
  readonly site: StaticSite | string;
  readonly app: App;
  readonly password: string;
}

function serve(site: StaticSite | string, http: HttpRequest, name: string, status = 200): void {
  if (typeof site === 'string')
    throw new AblyError(Err.overloaded, `The admin dashboard is not available: ${site} (build it with npm run build)`);
  if (!site.serve(http.req, http.res, name, status))
    sendError(http.res, new AblyError(Err.notFound, `No such file: ${name}`));
}

export function registerAdminRoutes(router: Router, ctx: NodeContext, admin: AdminSite): void {
  const sessions = new AdminSessions(admin.password);
  const throttle = new LoginThrottle();
  const now = (): number => ctx.clock.now();
  const noCors = { cors: false };
  router.add(
    'GET',
    '/admin',
    (http) => {
      const signedIn = sessions.valid(http.req, now());
      serve(admin.site, http, signedIn ? 'index.html' : 'login.html', signedIn ? 200 : 401);
    },
    noCors,
  );
  router.add(
    'GET',
    '/admin/token',
    (http) => {
      if (!sessions.valid(http.req, now()))
        throw new AblyError(Err.unauthorized, 'The dashboard needs an admin session: log in at /admin');
      const details = ctx.tokens.issue(admin.app.keys[0]!, { capability: VIEWER_CAPABILITY, ttl: VIEWER_TOKEN_TTL });
      sendJson(http.res, 200, details, { 'Cache-Control': 'no-store' });
    },
    noCors,
  );
  router.add(
    'POST',
    '/admin/login',
    async (http) => {
      throttle.check(now());
      const password = loginPassword(await readBody(http.req, LOGIN_BODY_LIMIT), http.req.headers['content-type']);
      if (!secretsEqual(password, admin.password)) {
        throttle.failed();
        throw new AblyError(Err.invalidCredentials, 'Wrong admin password');
      }
      done(http, sessions.issue(now(), http.secure));
    },
    noCors,
  );
  router.add('POST', '/admin/logout', (http) => done(http, sessions.clear(http.secure)), noCors);
  router.add('GET', '/admin/:file', (http) => serve(admin.site, http, http.params.file!), noCors);
}
