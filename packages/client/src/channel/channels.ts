/** The channels of a client (RTS): created on first `get`, routed every channel message. */
import type { ProtocolMessage } from '@encke/protocol/types';
import type { ConnectionHooks, ConnectionManager } from '../connection/manager.js';
import type { ConnectionState } from '../connection/types.js';
import type { ErrorInfo } from '../errors.js';
import { RealtimeChannel, type ChannelOptions } from './channel.js';
import type { PageRequest } from './paginated.js';

export class Channels implements ConnectionHooks {
  readonly all = new Map<string, RealtimeChannel>();

  constructor(
    private readonly conn: ConnectionManager,
    private readonly pages: PageRequest,
  ) {
    conn.hooks = this;
    // RTN16j: a recovered connection's channels start from the recovery key's serials.
    for (const [name, serial] of Object.entries(conn.recoveryChannelSerials)) this.get(name).channelSerial = serial;
  }

  get(name: string, options?: ChannelOptions): RealtimeChannel {
    let ch = this.all.get(name);
    if (!ch) {
      ch = new RealtimeChannel(name, this.conn, this.pages, options);
      this.all.set(name, ch);
    } else if (options) void ch.setOptions(options);
    return ch;
  }

  /** Forgets a channel (detaching it first). */
  async release(name: string): Promise<void> {
    const ch = this.all.get(name);
    if (!ch) return;
    await ch.detach();
    this.all.delete(name);
  }

  onMessage(pm: ProtocolMessage): void {
    if (pm.channel) this.all.get(pm.channel)?.onMessage(pm);
  }

  onConnected(): void {
    for (const ch of this.all.values()) ch.onConnected();
  }

  onState(state: ConnectionState, reason: ErrorInfo | undefined): void {
    for (const ch of this.all.values()) ch.onConnectionState(state, reason);
  }

  /** channelSerials of attached channels, for the recovery key. */
  serials(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, ch] of this.all) if (ch.state === 'attached' && ch.channelSerial) out[name] = ch.channelSerial;
    return out;
  }
}
