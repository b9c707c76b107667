/**
 * A small read-only view of what a node holds, for tests and operators (health checks, metrics):
 * counts of connections, channels and comet keys, and one connection's state by id. Tests use it
 * instead of reaching into the node's services.
 */
import type { AuthContext } from './auth/authenticate.js';
import type { NodeContext } from './context.js';
import type { TransportKind } from './session/port.js';
import type { SessionState } from './session/handle.js';
import type { CometRegistry } from './transports/comet/registry.js';

export interface ConnectionInspection {
  readonly state: SessionState;
  readonly clientId: string | undefined;
  readonly authMethod: AuthContext['method'];
  /** The transport carrying it now; null while disconnected. */
  readonly transport: TransportKind | null;
  /** A comet connection's recv is being held (stream open or poll waiting). */
  readonly cometRecvHeld: boolean;
  /** That recv is parked: held off node:http (http/parked.ts). */
  readonly cometRecvParked: boolean;
}

export class NodeInspector {
  constructor(
    private readonly ctx: NodeContext,
    private readonly comet: CometRegistry,
  ) {}

  /** Connections this node owns: connected, or waiting for a resume. */
  get connections(): number {
    return this.ctx.sessions.size;
  }

  /** Channels with attachments on this node. */
  get channels(): number {
    return this.ctx.channels.size;
  }

  /** Connection keys that reach a comet transport of this node. */
  get cometKeys(): number {
    return this.comet.size;
  }

  /** Comet recvs read on a parked socket without node:http (transports/comet/raw-recv.ts). */
  get cometRawRecvs(): number {
    return this.comet.rawRecvs;
  }

  connectionIds(): string[] {
    return [...this.ctx.sessions.values()].map((s) => s.id);
  }

  connection(connectionId: string): ConnectionInspection | undefined {
    const session = this.ctx.sessions.get(connectionId);
    if (!session) return undefined;
    return {
      state: session.state,
      clientId: session.clientId,
      authMethod: session.auth.method,
      transport: session.transport?.kind ?? null,
      cometRecvHeld: this.comet.byConnectionId(connectionId)?.transport.recvHeld ?? false,
      cometRecvParked: this.comet.byConnectionId(connectionId)?.transport.recvParked ?? false,
    };
  }

  /** Forgets a connection at once, as if it had closed without a word (tests clearing state between cases). */
  discard(connectionId: string): void {
    this.ctx.sessions.get(connectionId)?.dispose('closed');
  }
}
