/** A scripted upstream connection for @encke/client's shared connection (client/shared*.test.ts). */
import type { ConnectionDetails, ProtocolMessage } from '@encke/protocol';
import { Action } from '@encke/protocol';
import type { ConnectionHooks } from '@encke/client/internal/connection/manager';
import type { ConnectionState } from '@encke/client/internal/connection/types';
import { kit } from '@encke/client/internal/kit';
import type { Upstream } from '@encke/client/internal/shared/hub';

export type PublishResult = { serials: (string | null)[] };

/** The real connection, scripted: what the hub sends, and ACK/NACK by hand. */
export class FakeUpstream implements Upstream {
  state: ConnectionState = 'connected';
  id: string | undefined = 'conn-1';
  key: string | undefined = 'conn-1!key';
  details: ConnectionDetails | undefined = {
    connectionKey: 'conn-1!key',
    clientId: undefined,
    maxIdleInterval: 15_000,
    connectionStateTtl: 120_000,
    maxMessageSize: 65536,
    maxFrameSize: 524288,
  } as ConnectionDetails;
  transport: string | undefined = 'web_socket';
  hooks: ConnectionHooks | undefined;
  readonly sent: ProtocolMessage[] = [];
  readonly ackable: {
    pm: ProtocolMessage;
    resolve(r: PublishResult | undefined): void;
    reject(e: InstanceType<typeof kit.ErrorInfo>): void;
  }[] = [];

  send(pm: ProtocolMessage): boolean {
    this.sent.push(structuredClone(pm));
    return true;
  }
  sendAckable(pm: ProtocolMessage): Promise<PublishResult | undefined> {
    return new Promise((resolve, reject) => this.ackable.push({ pm: structuredClone(pm), resolve, reject }));
  }
  createRecoveryKey(): string | null {
    return JSON.stringify({
      connectionKey: this.key,
      msgSerial: this.ackable.length,
      channelSerials: this.hooks?.serials() ?? {},
    });
  }
  /** Plays a message from the server. */
  receive(pm: ProtocolMessage): void {
    this.hooks?.onMessage(pm);
  }
}

/** The channelSerial of the nth message (epoch ep1). */
export const serial = (n: number): string => `ep1-${n.toString(36).padStart(11, '0')}`;
/** A MESSAGE on `channel` at serial n, its data String(n). */
export const message = (channel: string, n: number): ProtocolMessage => ({
  action: Action.MESSAGE,
  channel,
  channelSerial: serial(n),
  messages: [{ name: 'n', data: String(n) }],
});
