/**
 * A node's WebSocket server. The usual handshake is made here (ws-handshake.ts) and its 101 goes out
 * with CONNECTED in one write; any other upgrade goes to `ws`'s `handleUpgrade`, which answers it as
 * `ws` does. Either way the connection's WebSocket is a WebSocketTransport (websocket.ts), which this
 * starts as the connection's transport.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { AblyError, Action, type Format } from '@encke/protocol';
import { WebSocketServer, type Server, type ServerOptions } from 'ws';
import type { NodeContext } from '../context.js';
import { requestOrigin } from '../http/origin.js';
import { parseQuery, type QueryParams } from '../http/query-params.js';
import { parseConnectParams, type ConnectParams } from '../session/connect-params.js';
import { openConnection } from '../session/connect.js';
import { OutboundFrame } from '../wire/frame.js';
import { WebSocketTransport } from './websocket.js';
import { usualHandshake, type SocketOptions } from './ws-handshake.js';

/** The WebSocket server of a node: its WebSockets are transports (WebSocketTransport). */
export interface TransportServer {
  /** `ws`'s server: its options, and the handshakes this node does not make itself. */
  readonly wss: Server<typeof WebSocketTransport>;
  /** What `ws` hands each WebSocket's `setSocket`, read once from its options (defaults filled in). */
  readonly socketOptions: SocketOptions;
}

/**
 * `ws`'s server makes its WebSockets with `new WebSocket(null, undefined, options)` (a server-side
 * WebSocket, with the server's autoPong and closeTimeout); @types/ws declares only `(address: null)`.
 */
const ServerSideWebSocket: new (address: null, protocols: undefined, options: ServerOptions) => WebSocketTransport =
  WebSocketTransport;

export function webSocketServer(maxFrameSize: number): TransportServer {
  const wss = new WebSocketServer<typeof WebSocketTransport>({
    noServer: true,
    perMessageDeflate: false,
    clientTracking: false,
    // Frames past maxFrameSize get an in-band 40009; ws itself only stops absurd ones.
    maxPayload: maxFrameSize * 2,
    WebSocket: WebSocketTransport,
  });
  const o = wss.options;
  return {
    wss,
    socketOptions: {
      allowSynchronousEvents: o.allowSynchronousEvents,
      maxBufferedChunks: o.maxBufferedChunks,
      maxFragments: o.maxFragments,
      maxPayload: o.maxPayload,
      skipUTF8Validation: o.skipUTF8Validation,
    },
  };
}

/** Accepts a WebSocket upgrade on `/` (with the request's query string) and starts the connection over it. */
export function acceptWebSocket(
  ctx: NodeContext,
  server: TransportServer,
  req: IncomingMessage,
  upgraded: Duplex,
  head: Buffer,
  queryText: string,
): void {
  const query = parseQuery(queryText);
  // node:http's 'upgrade' hands over a net.Socket (or a tls.TLSSocket, one of those) unless a
  // server was made with another socket type, which this node never does.
  const socket = upgraded as Socket;
  // `ws` destroys a socket that is no longer readable or writable: its handleUpgrade does that here.
  const handshake = socket.readable && socket.writable ? usualHandshake(req) : undefined;
  if (handshake === undefined) {
    // The socket stays corked until the transport writes its first frame, so that `ws`'s 101 and
    // CONNECTED leave in one write; an upgrade that fails ends (and so uncorks) the socket itself.
    socket.cork();
    server.wss.handleUpgrade(req, socket, head, (ws) =>
      startConnection(ctx, requestOrigin(req.headers), socket, head, query, ws),
    );
    return;
  }
  // As `ws`'s completeUpgrade does after writing its 101, which waits for the first frame here.
  const ws = new ServerSideWebSocket(null, undefined, server.wss.options);
  ws.setSocket(socket, head, server.socketOptions);
  ws.holdHandshake(handshake.response);
  try {
    const origin = requestOrigin({ origin: handshake.origin, referer: handshake.referer });
    startConnection(ctx, origin, socket, head, query, ws);
  } finally {
    ws.releaseHandshake();
  }
}

/** Starts `ws`, just upgraded, as the transport of a connection opened with `query` from a page of `origin`. */
function startConnection(
  ctx: NodeContext,
  origin: string | undefined,
  socket: Socket,
  head: Buffer,
  query: QueryParams,
  ws: WebSocketTransport,
): void {
  let params: ConnectParams;
  try {
    params = parseConnectParams(query, 'encrypted' in socket && socket.encrypted === true, origin);
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
}
