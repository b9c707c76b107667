/**
 * The admin session: after a correct password, the browser holds a cookie `<expires>.<mac>` where
 * the MAC is an HMAC of the expiry under a key derived from the password. Stateless, so any node
 * with the same password accepts it; changing the password ends every session. HttpOnly (no script
 * reads it), SameSite=Strict (no other site's page sends it), Path=/admin, Secure over TLS.
 */
import { createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { sameLengthSecretsEqual } from '../auth/secret.js';
import { derivedSecret } from './admin-app.js';

export const COOKIE_NAME = 'encke_admin';
/** An admin session lasts 12 hours. */
export const SESSION_TTL = 12 * 3_600_000;
const COOKIE_VALUE = /^(\d{1,15})\.([A-Za-z0-9_-]{43})$/;

export class AdminSessions {
  private readonly key: string;

  constructor(password: string) {
    this.key = derivedSecret(password, 'session cookie');
  }

  private mac(expires: number): string {
    return createHmac('sha256', this.key).update(String(expires)).digest('base64url');
  }

  /** The Set-Cookie header value of a new session. */
  issue(now: number, secure: boolean): string {
    const expires = now + SESSION_TTL;
    const attributes = [
      `${COOKIE_NAME}=${expires}.${this.mac(expires)}`,
      'Path=/admin',
      `Max-Age=${SESSION_TTL / 1000}`,
      'HttpOnly',
      'SameSite=Strict',
    ];
    if (secure) attributes.push('Secure');
    return attributes.join('; ');
  }

  /** The Set-Cookie header value that ends the session. */
  clear(secure: boolean): string {
    return `${COOKIE_NAME}=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
  }

  /** Whether the request carries a valid, unexpired session cookie. */
  valid(req: IncomingMessage, now: number): boolean {
    const value = cookie(req, COOKIE_NAME);
    const m = value === undefined ? null : COOKIE_VALUE.exec(value);
    if (!m) return false;
    const expires = Number(m[1]);
    return expires > now && sameLengthSecretsEqual(m[2]!, this.mac(expires));
  }
}

/** The value of cookie `name` in the request's Cookie header. */
function cookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
