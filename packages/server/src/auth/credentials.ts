/**
 * Where credentials arrive: the `key` / `access_token` query params (WebSocket and comet, as the
 * SDKs send them) and the `Authorization: Basic|Bearer` header (REST; the Bearer token is base64).
 */
import { AblyError, Err } from '@encke/protocol';
import type { Credentials } from './authenticate.js';
import type { QueryParams } from '../http/query-params.js';

export function credentialsFromQuery(query: QueryParams): Credentials | undefined {
  const key = query.get('key');
  if (key !== null) return { key };
  const token = query.get('access_token') ?? query.get('accessToken');
  if (token !== null) return { token };
  return undefined;
}

export function credentialsFromHeader(header: string | undefined): Credentials | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const value = space < 0 ? '' : header.slice(space + 1).trim();
  if (scheme === 'basic') return { key: Buffer.from(value, 'base64').toString('utf8') };
  if (scheme === 'bearer') {
    // ably-js base64-encodes the token in the header (RSA3b); accept a raw token too.
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const looksEncoded =
      /^[A-Za-z0-9+/]+={0,2}$/.test(value) && Buffer.from(decoded, 'utf8').toString('base64') === value;
    return { token: looksEncoded && /^[\x20-\x7e]+$/.test(decoded) ? decoded : value };
  }
  throw new AblyError(Err.invalidCredentials, `Unsupported Authorization scheme "${scheme}"`);
}

/** Query credentials first (comet and WebSocket), then the header. */
export function requestCredentials(query: URLSearchParams, header: string | undefined): Credentials | undefined {
  return credentialsFromQuery(query) ?? credentialsFromHeader(header);
}
