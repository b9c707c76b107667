/**
 * A node's WebSocket server: `ws` does the handshake and makes each connection's WebSocket as a
 * WebSocketTransport (websocket.ts), which this starts as the connection's transport.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { AblyError, Action, type Format } from '@encke/protocol';
import { WebSocketServer, type Server } from 'ws';
import type { NodeContext } from '../context.js';
import { requestOrigin } from '../http/origin.js';
import { parseQuery } from '../http/query-params.js';
import { parseConnectParams, type ConnectParams } from '../session/connect-params.js';
import { openConnection } from '../session/connect.js';
import { OutboundFrame } from '../wire/frame.js';
import { WebSocketTransport } from './websocket.js';

/** The WebSocket server of a node: its WebSockets are transports (WebSocketTransport). */
export type TransportServer = Server<typeof WebSocketTransport>;

export function webSocketServer(maxFrameSize: number): TransportServer {
  return new WebSocketServer<typeof WebSocketTransport>({
    noServer: true,
    perMessageDeflate: false,
    clientTracking: false,
    // Frames past maxFrameSize get an in-band 40009; ws itself only stops absurd ones.
    maxPayload: maxFrameSize * 2,
    WebSocket: WebSocketTransport,
  });
}

/** Accepts a WebSocket upgrade on `/` (with the request's query string) and starts the connection over it. */
export function acceptWebSocket(
  ctx: NodeContext,
  wss: TransportServer,
  req: IncomingMessage,
  upgraded: Duplex,
  head: Buffer,
  queryText: string,
): void {
  const query = parseQuery(queryText);
  // node:http's 'upgrade' hands over a net.Socket (or a tls.TLSSocket, one of those) unless a
  // server was made with another socket type, which this node never does.
  const socket = upgraded as Socket;
  // The socket stays corked until the transport writes its first frame, so that the 101 response
  // and CONNECTED leave in one write: a syscall less per connection (bench S3). The client waits
  // for CONNECTED anyway; an upgrade that fails ends (and so uncorks) the socket itself.
  socket.cork();
  wss.handleUpgrade(req, socket, head, (ws) => {
    let params: ConnectParams;
    try {
      params = parseConnectParams(
        query,
        'encrypted' in socket && socket.encrypted === true,
        requestOrigin(req.headers),
      );
    } catch (err) {
      const format: Format = query.get('format') === 'msgpack' ? 'msgpack' : 'json';
      const t = ws.start(ctx, socket, format, false);
      t.end(new OutboundFrame({ action: Action.ERROR, error: AblyError.from(err).toErrorInfo() }));
      return;
    }
    const transport = ws.start(ctx, socket, params.format, params.heartbeats);
    // Only CONNECTED can go to it this tick if the client sent nothing with its upgrade (`head`, answered
    // later this tick) and the open ends here, awaiting nothing (a configured key): it goes at once, with the 101.
    transport.accepting = head.length === 0;
    // A promise only when the open waits (a token, a resume): the usual open returns at once.
    const opening = openConnection(ctx, params, transport);
    if (opening instanceof Promise)
      opening.catch((err: unknown) => ctx.logger.error({ err }, 'websocket connect failed'));
    transport.accepting = false;
  });
}
