/**
 * A small router for the HTTP side (REST and comet). Patterns are paths with `:name` segments;
 * segment values are percent-decoded after splitting, so a channel name may contain `/` (ably-js
 * sends `encodeURIComponent(name)`). A malformed escape is the client's error (40000), not a crash.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AblyError, Err } from '@encke/protocol';

/**
 * A request target's path and query. Splitting at `?` and parsing the query only when asked costs
 * a fraction of `new URL()` (a comet poll pays it on every request). The path is left as sent,
 * not normalised: the router decodes each segment itself.
 */
export class RequestUrl {
  readonly pathname: string;
  private readonly query: string;
  private params: URLSearchParams | undefined;

  constructor(target: string) {
    if (!target.startsWith('/')) {
      // Absolute form (`GET http://host/path`), as some proxies send it.
      const url = new URL(target, 'http://localhost');
      this.pathname = url.pathname;
      this.query = url.search;
      return;
    }
    const hash = target.indexOf('#');
    const t = hash < 0 ? target : target.slice(0, hash);
    const q = t.indexOf('?');
    this.pathname = q < 0 ? t : t.slice(0, q);
    this.query = q < 0 ? '' : t.slice(q + 1);
  }

  get searchParams(): URLSearchParams {
    return (this.params ??= new URLSearchParams(this.query));
  }
}

export interface HttpRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  readonly url: RequestUrl;
  readonly params: Readonly<Record<string, string>>;
  /** True when the request arrived over TLS. */
  readonly secure: boolean;
}

export type Handler = (request: HttpRequest) => void | Promise<void>;

export interface RouteOptions {
  /**
   * Whether browsers on other origins may call the route (credentialed CORS). Off for the sandbox's
   * unauthenticated routes, so that no web page can create apps and read their keys. @default true
   */
  cors?: boolean;
}

interface Route {
  method: string;
  segments: string[];
  handler: Handler;
  cors: boolean;
}

export interface RouteMatch {
  handler: Handler;
  params: Record<string, string>;
}

export class Router {
  private readonly routes: Route[] = [];
  private readonly noCors: Route[] = [];

  add(method: string, pattern: string, handler: Handler, options: RouteOptions = {}): this {
    const route = { method, segments: pattern.split('/').filter(Boolean), handler, cors: options.cors ?? true };
    this.routes.push(route);
    if (!route.cors) this.noCors.push(route);
    return this;
  }

  /** Whether cross-origin browsers may call `method` on `pathname` (for a preflight: the method it asks about). */
  allowsCors(method: string, pathname: string): boolean {
    if (this.noCors.length === 0) return true;
    const parts = pathname.split('/').filter(Boolean);
    return !this.noCors.some((route) => route.method === method && matchSegments(route.segments, parts) !== undefined);
  }

  /** The route for `method` and `pathname`; 40500 when the path exists for other methods only. */
  match(method: string, pathname: string): RouteMatch | undefined {
    const parts = pathname.split('/').filter(Boolean);
    let pathMatched = false;
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET'))
        return { handler: route.handler, params };
      pathMatched = true;
    }
    if (pathMatched) throw new AblyError(Err.methodNotAllowed, `Method ${method} not allowed on ${pathname}`);
    return undefined;
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const part = parts[i]!;
    if (p.startsWith(':')) params[p.slice(1)] = decodeSegment(part);
    else if (p !== part) return undefined;
  }
  return params;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new AblyError(
      Err.badRequest,
      `Malformed percent-encoding in path segment ${JSON.stringify(segment.slice(0, 100))}`,
    );
  }
}
