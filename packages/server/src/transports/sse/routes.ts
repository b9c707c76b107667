/**
 * Ably's SSE and raw HTTP streaming API:
 *
 *   GET /sse?channels=a,b&v=1.2&key=…            text/event-stream (EventSource)
 *   GET /event-stream?channels=a&v=1.2&key=…     SSE if Accept: text/event-stream, else one JSON
 *                                                object per line
 *
 * Parameters in params.ts; events in events.ts; resume ids in positions.ts.
 */
import { AblyError, Err } from '@encke/protocol';
import type { HttpRequest, Router } from '../../http/router.js';
import { requestOrigin } from '../../http/origin.js';
import { parseConnectParams } from '../../session/connect-params.js';
import { openConnection } from '../../session/connect.js';
import type { NodeContext } from '../../context.js';
import { EventStreamTransport } from './event-stream.js';
import type { StreamStyle } from './events.js';
import { parseEventStreamParams } from './params.js';
import { decodePositions } from './positions.js';

export const SSE_ACCEPT = 'text/event-stream';

export function registerEventStreamRoutes(router: Router, ctx: NodeContext): void {
  router.add('GET', '/sse', (r) => stream(ctx, r, 'sse'));
  router.add('GET', '/event-stream', (r) =>
    stream(ctx, r, r.req.headers.accept?.includes(SSE_ACCEPT) ? 'sse' : 'json'),
  );
}

async function stream(ctx: NodeContext, r: HttpRequest, style: StreamStyle): Promise<void> {
  const params = parseEventStreamParams(r.url.searchParams, r.req, ctx.options.maxChannelsPerConnection);
  if (!params.credentials) throw new AblyError(Err.invalidCredentials, 'No credentials: give key or accessToken');
  const resume = params.lastEvent === undefined ? undefined : decodePositions(params.lastEvent, params.channels.length);
  const transport = new EventStreamTransport(ctx, r.res, params, style, resume);
  // The session's own connect params: a plain listener, no clientId, heartbeats from the transport.
  const connect = parseConnectParams(new URLSearchParams(), r.secure, requestOrigin(r.req.headers));
  connect.credentials = params.credentials;
  await openConnection(ctx, connect, transport);
}
