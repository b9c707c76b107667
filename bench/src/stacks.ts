/**
 * The stacks measured side by side. Each is a server (one or more nodes, each in its own process,
 * and for encke clusters a redis-server started by the harness) and a wire-level client for the
 * load generator. A stack whose server lacks a transport (encke's comet before it is merged) is
 * skipped with a note instead of failing the run.
 */
import type { BenchClient, ClientContext } from './clients/client.js';
import { BareWsClient } from './clients/bare.js';
import { EnckeSseApiClient, EnckeTechniqueClient, type Technique } from './clients/encke-techniques.js';
import { EnckeCometClient, EnckeWsClient } from './clients/encke.js';
import { FayeLongPollingClient, FayeWsClient } from './clients/faye.js';
import { SocketIoPollingClient, SocketIoWsClient } from './clients/socketio.js';
import type { ServerKind } from './servers/main.js';

export const STACK_IDS = [
  'bare-ws',
  'encke-ws-json',
  'encke-ws-msgpack',
  'encke-comet',
  'encke-comet-stream',
  'encke-sse',
  'encke-htmlfile',
  'encke-multipart',
  'encke-jsonp',
  'encke-sse-api',
  'encke-redis-1',
  'encke-cluster-2',
  'encke-ws-json-delta',
  'encke-ws-msgpack-delta',
  'encke-comet-stream-delta',
  'socketio-ws',
  'socketio-polling',
  'faye-ws',
  'faye-longpoll',
] as const;
export type StackId = (typeof STACK_IDS)[number];

function isStackId(id: string): id is StackId {
  return (STACK_IDS as readonly string[]).includes(id);
}

/** A command line's comma-separated stack ids, each checked against STACK_IDS. */
export function parseStackIds(text: string): StackId[] {
  return text.split(',').map((id) => {
    if (!isStackId(id)) throw new Error(`unknown stack ${id}; known: ${STACK_IDS.join(', ')}`);
    return id;
  });
}

export interface Stack {
  id: StackId;
  label: string;
  server: ServerKind;
  /** Server processes (nodes of one deployment); connections spread over them. @default 1 */
  nodes?: number;
  /** The nodes share a redis-server the harness starts (`--redis`): encke's Redis engine. */
  redis?: boolean;
  transport: 'websocket' | 'polling';
  client(ctx: ClientContext): BenchClient;
  /** Checks that the server serves this stack's transport (run once per server start). */
  available?(port: number): Promise<boolean>;
}

export const STACKS: Record<StackId, Stack> = {
  'bare-ws': {
    id: 'bare-ws',
    label: 'bare ws (reference)',
    server: 'bare-ws',
    transport: 'websocket',
    client: (c) => new BareWsClient(c),
  },
  'encke-ws-json': {
    id: 'encke-ws-json',
    label: 'encke WS JSON',
    server: 'encke',
    transport: 'websocket',
    client: (c) => new EnckeWsClient(c, 'json'),
  },
  'encke-ws-msgpack': {
    id: 'encke-ws-msgpack',
    label: 'encke WS msgpack',
    server: 'encke',
    transport: 'websocket',
    client: (c) => new EnckeWsClient(c, 'msgpack'),
  },
  'encke-comet': {
    id: 'encke-comet',
    label: 'encke comet',
    server: 'encke',
    transport: 'polling',
    client: (c) => new EnckeCometClient(c, new EnckeWsClient(c, 'json')),
    available: (port) => EnckeCometClient.available(port).catch(() => false),
  },
  'encke-comet-stream': {
    id: 'encke-comet-stream',
    label: 'encke comet streaming',
    server: 'encke',
    transport: 'polling',
    client: (c) => new EnckeCometClient(c, new EnckeWsClient(c, 'json'), true),
    available: (port) => EnckeCometClient.available(port).catch(() => false),
  },
  'encke-sse': technique('encke-sse', 'encke comet SSE', 'sse'),
  'encke-htmlfile': technique('encke-htmlfile', 'encke forever-iframe', 'htmlfile'),
  'encke-multipart': technique('encke-multipart', 'encke multipart', 'multipart'),
  'encke-jsonp': technique('encke-jsonp', 'encke JSONP', 'jsonp'),
  'encke-sse-api': {
    id: 'encke-sse-api',
    label: 'encke SSE API (/sse)',
    server: 'encke',
    transport: 'polling',
    client: (c) => new EnckeSseApiClient(c, new EnckeWsClient(c, 'json')),
  },
  'encke-redis-1': {
    id: 'encke-redis-1',
    label: 'encke 1 node + Redis',
    server: 'encke',
    redis: true,
    transport: 'websocket',
    client: (c) => new EnckeWsClient(c, 'json'),
  },
  'encke-cluster-2': {
    id: 'encke-cluster-2',
    label: 'encke 2 nodes + Redis',
    server: 'encke',
    nodes: 2,
    redis: true,
    transport: 'websocket',
    client: (c) => new EnckeWsClient(c, 'json'),
  },
  // Delta compression (issue 14): subscribers attach with `params: {delta: 'vcdiff'}`; document scenarios (S8) only.
  'encke-ws-json-delta': {
    id: 'encke-ws-json-delta',
    label: 'encke WS JSON + delta',
    server: 'encke',
    transport: 'websocket',
    client: (c) => new EnckeWsClient(c, 'json', { delta: true }),
  },
  'encke-ws-msgpack-delta': {
    id: 'encke-ws-msgpack-delta',
    label: 'encke WS msgpack + delta',
    server: 'encke',
    transport: 'websocket',
    client: (c) => new EnckeWsClient(c, 'msgpack', { delta: true }),
  },
  'encke-comet-stream-delta': {
    id: 'encke-comet-stream-delta',
    label: 'encke comet streaming + delta',
    server: 'encke',
    transport: 'polling',
    client: (c) => new EnckeCometClient(c, new EnckeWsClient(c, 'json'), true, { delta: true }),
    available: (port) => EnckeCometClient.available(port).catch(() => false),
  },
  'socketio-ws': {
    id: 'socketio-ws',
    label: 'Socket.IO WS',
    server: 'socketio',
    transport: 'websocket',
    client: (c) => new SocketIoWsClient(c),
  },
  'socketio-polling': {
    id: 'socketio-polling',
    label: 'Socket.IO polling',
    server: 'socketio',
    transport: 'polling',
    client: (c) => new SocketIoPollingClient(c, new SocketIoWsClient(c)),
  },
  'faye-ws': {
    id: 'faye-ws',
    label: 'Faye WS',
    server: 'faye',
    transport: 'websocket',
    client: (c) => new FayeWsClient(c),
  },
  'faye-longpoll': {
    id: 'faye-longpoll',
    label: 'Faye long-polling',
    server: 'faye',
    transport: 'polling',
    client: (c) => new FayeLongPollingClient(c, new FayeWsClient(c)),
  },
};

/** An encke comet technique (issue 15): the comet connection with its recv in another framing. */
function technique(id: StackId, label: string, framing: Technique): Stack {
  return {
    id,
    label,
    server: 'encke',
    transport: 'polling',
    client: (c) => new EnckeTechniqueClient(c, new EnckeWsClient(c, 'json'), framing),
  };
}
