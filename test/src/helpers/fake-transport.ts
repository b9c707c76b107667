/**
 * A scriptable transport for @encke/client: the test sees what the client sends and plays the
 * server (CONNECTED, ACK, close …) by hand, so the state machine runs on a fake clock.
 */
import type {
  ErrorInfo,
  Transport,
  TransportContext,
  TransportModule,
  TransportName,
  TransportSink,
} from '@encke/client';
import { settle } from './fake-clock.js';
import { Action, type ProtocolMessage } from '@encke/protocol';

export class FakeTransport implements Transport {
  readonly sent: ProtocolMessage[] = [];
  closeCalled = false;
  disconnected = false;
  constructor(
    readonly name: TransportName,
    readonly ctx: TransportContext,
    readonly sink: TransportSink,
  ) {}
  send(pm: ProtocolMessage): void {
    this.sent.push(structuredClone(pm));
  }
  close(): void {
    this.closeCalled = true;
  }
  disconnect(): void {
    this.disconnected = true;
  }

  /** Plays a server message and lets the client act on it. */
  async receive(pm: ProtocolMessage): Promise<void> {
    this.sink.onMessage(pm);
    await settle();
  }

  /** Plays the transport's end, with `err` as the reason. */
  async lose(err: ErrorInfo | undefined, fatal?: boolean): Promise<void> {
    this.sink.onClose(err, fatal);
    await settle();
  }

  /** Plays CONNECTED. */
  async connected(
    connectionId = 'conn00000001',
    details: Partial<NonNullable<ProtocolMessage['connectionDetails']>> = {},
    extra: Partial<ProtocolMessage> = {},
  ): Promise<void> {
    await this.receive({
      action: Action.CONNECTED,
      connectionId,
      connectionDetails: {
        connectionKey: `${connectionId}!${Math.random().toString(36).slice(2)}`,
        maxIdleInterval: 15_000,
        connectionStateTtl: 120_000,
        maxMessageSize: 65536,
        maxFrameSize: 524288,
        maxInboundRate: 50,
        serverId: 'fake',
        ...details,
      },
      ...extra,
    });
  }

  sentOf(action: number): ProtocolMessage[] {
    return this.sent.filter((pm) => pm.action === action);
  }
}

/** A module whose every created transport is recorded, newest last. */
export class FakeModule implements TransportModule {
  readonly created: FakeTransport[] = [];
  constructor(readonly name: TransportName) {}
  supported(): boolean {
    return true;
  }
  create(ctx: TransportContext, sink: TransportSink): Transport {
    const t = new FakeTransport(this.name, ctx, sink);
    this.created.push(t);
    return t;
  }
  get last(): FakeTransport {
    const t = this.created[this.created.length - 1];
    if (!t) throw new Error(`no ${this.name} transport created`);
    return t;
  }
}
