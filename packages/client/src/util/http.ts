/**
 * fetch with a deadline on the client's clock, answering ErrorInfo for every failure: a network
 * error or timeout is retriable (80003 / 50003); an HTTP error carries the server's ErrorInfo
 * (`{"error": …}` body or `X-Ably-ErrorCode` headers).
 */
import type { ParseJson } from './unknown.js';
import { Err, ErrorInfo } from '../errors.js';
import type { Clock } from './clock.js';

export interface HttpRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Let the request outlive the page (a CLOSE sent on `pagehide`). */
  keepalive?: boolean;
}

export interface HttpContext {
  fetch: typeof fetch;
  clock: Clock;
}

/** Starts a request; rejects with an ErrorInfo on network failure or timeout (not on HTTP status). */
export async function send(ctx: HttpContext, url: string, req: HttpRequest): Promise<Response> {
  const abort = new AbortController();
  const onOuterAbort = (): void => abort.abort();
  req.signal?.addEventListener('abort', onOuterAbort);
  let timedOut = false;
  const timer = ctx.clock.setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, req.timeoutMs);
  try {
    const init: RequestInit = { method: req.method ?? 'GET', signal: abort.signal };
    if (req.keepalive) init.keepalive = true;
    if (req.headers) init.headers = req.headers;
    if (req.body !== undefined) init.body = req.body as BodyInit;
    return await ctx.fetch(url, init);
  } catch (err) {
    if (timedOut) throw ErrorInfo.of(Err.timeout, `Request timed out: ${url.split('?')[0] ?? ''}`);
    throw ErrorInfo.of(Err.disconnected, `Request failed: ${(err as Error).message}`);
  } finally {
    ctx.clock.clearTimeout(timer);
    req.signal?.removeEventListener('abort', onOuterAbort);
  }
}

/** The ErrorInfo of an HTTP error: the body's `{"error": …}`, else the `X-Ably-Error*` headers, else the status. */
export function errorOf(res: Response, text: string): ErrorInfo {
  let body: unknown;
  try {
    body = (JSON.parse as ParseJson)(text);
  } catch {
    body = undefined;
  }
  const fromBody =
    body !== null && typeof body === 'object' && 'error' in body ? (body as { error: unknown }).error : undefined;
  if (fromBody) return ErrorInfo.from(fromBody);
  // Without the server's ErrorInfo (a proxy's page, say) the request just failed: retriable.
  const headerCode = Number(res.headers.get('x-ably-errorcode'));
  const message = res.headers.get('x-ably-errormessage') ?? `HTTP ${res.status} from ${res.url.split('?')[0] ?? ''}`;
  return new ErrorInfo(message, headerCode || Err.disconnected.code, res.status);
}
