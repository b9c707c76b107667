/**
 * The web origin a request comes from, for apps that allow only some (`allowedOrigins`): the
 * `Origin` header (CORS requests, WebSocket upgrades), else the origin of the `Referer` (a script
 * tag or an iframe navigation sends no Origin). Undefined for requests that carry neither: not
 * from a browser page, so there is no origin to refuse.
 */
import type { IncomingHttpHeaders } from 'node:http';

export function requestOrigin(headers: IncomingHttpHeaders): string | undefined {
  const origin = headers.origin;
  if (typeof origin === 'string' && origin !== '' && origin !== 'null') return origin.toLowerCase();
  const referer = headers.referer;
  if (typeof referer !== 'string' || referer === '') return undefined;
  try {
    const url = new URL(referer);
    return url.origin === 'null' ? undefined : url.origin.toLowerCase();
  } catch {
    return undefined;
  }
}
