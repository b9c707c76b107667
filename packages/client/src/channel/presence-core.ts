/**
 * Presence, loaded on first use (RTP): the member set kept by PRESENCE and SYNC, enter/update/
 * leave for this client (or any client with a wildcard identity), `get` once the set is in sync,
 * and automatic re-entry of this connection's members after an attachment that lost them (RTP17).
 */
import type { ProtocolMessage, PresenceMessage as WirePresence } from '@encke/protocol/types';
import type { ConnectionManager } from '../connection/manager.js';
import type { Kit } from '../kit.js';
import type { Emitter } from '../util/emitter.js';
import type { PresenceActionName, PresenceMessage } from './message.js';
import { PresenceMap } from './presence-map.js';
import { decodePresence } from './presence-message.js';
import type { RealtimeChannel } from './channel.js';
import type { PresenceGetParams } from './presence.js';

type PresenceVerb = 'enter' | 'update' | 'leave';

export class PresenceCore {
  private readonly map = new PresenceMap();
  private readonly synced: Emitter<'sync', void>;
  /** This connection's own members, by clientId, to re-enter (RTP17). */
  private readonly own = new Map<string, { data: unknown; id: string | undefined }>();

  constructor(
    private readonly kit: Kit,
    private readonly channel: RealtimeChannel,
    private readonly conn: ConnectionManager,
    private readonly subscribers: Emitter<PresenceActionName, PresenceMessage>,
  ) {
    this.synced = new kit.Emitter<'sync', void>();
  }

  get syncComplete(): boolean {
    return this.map.syncComplete;
  }

  /** The members, once the set is in sync unless told not to (RTP11). */
  async get(params: PresenceGetParams): Promise<PresenceMessage[]> {
    await this.channel.attach();
    if (params.waitForSync !== false && !this.map.syncComplete) await this.synced.once('sync');
    return this.map.list(params);
  }

  async act(verb: PresenceVerb, clientId: string | undefined, data: unknown): Promise<void> {
    const { Err, ErrorInfo } = this.kit;
    const id = clientId ?? this.conn.auth.clientId;
    if (!id || id === '*')
      throw ErrorInfo.of(Err.presenceNoClientId, 'Presence needs a clientId (set clientId or use a token with one)');
    if (verb !== 'leave' && this.channel.state !== 'attached') await this.channel.attach();
    if (clientId === undefined) {
      if (verb === 'leave') this.own.delete(id);
      else this.own.set(id, { data, id: undefined });
    }
    await this.sendPresence(verb, id, data, undefined);
  }

  private sendPresence(verb: PresenceVerb, clientId: string, data: unknown, id: string | undefined): Promise<void> {
    const { PresenceAction, Action } = this.kit;
    const action =
      verb === 'enter' ? PresenceAction.ENTER : verb === 'update' ? PresenceAction.UPDATE : PresenceAction.LEAVE;
    const item: WirePresence = { action, clientId, ...this.kit.encodeData(data, this.conn.options.format) };
    if (id) item.id = id;
    return this.conn
      .sendAckable({ action: Action.PRESENCE, channel: this.channel.name, presence: [item] })
      .then(() => undefined);
  }

  // ---- driven by the channel ----

  onAttached(hasPresence: boolean, continued: boolean): void {
    if (hasPresence) this.map.startSync();
    else if (!continued) this.emitAll(this.map.clear(this.conn.options.clock.now()));
    if (!hasPresence) this.synced.emit('sync', undefined);
    if (!continued) this.reenter();
  }

  onDetached(): void {
    this.map.clear(this.conn.options.clock.now());
    this.synced.emit('sync', undefined);
  }

  onMessage(pm: ProtocolMessage): void {
    const items = (pm.presence ?? []).map((wire, i) => {
      const m = decodePresence(this.kit, wire);
      m.id ??= `${pm.id ?? ''}:${i}`;
      if (!m.connectionId) m.connectionId = pm.connectionId ?? '';
      m.timestamp ??= pm.timestamp;
      return m;
    });
    if (pm.action === this.kit.Action.PRESENCE) {
      for (const m of items) if (this.map.put(m)) this.subscribers.emit(m.action, m);
      return;
    }
    // SYNC: `<syncId>:<cursor>`; an empty cursor (or no serial) ends it (RTP18).
    this.map.startSync();
    for (const m of items) if (this.map.put(m)) this.subscribers.emit('present', { ...m, action: 'present' });
    const cursor = pm.channelSerial?.slice(pm.channelSerial.indexOf(':') + 1);
    if (!cursor) {
      this.emitAll(this.map.endSync(this.conn.options.clock.now()));
      this.synced.emit('sync', undefined);
    }
  }

  private emitAll(leaves: PresenceMessage[]): void {
    for (const m of leaves) this.subscribers.emit('leave', m);
  }

  /** RTP17: re-enter this connection's members after an attachment that did not continue. */
  private reenter(): void {
    for (const [clientId, { data, id }] of this.own) {
      this.sendPresence('enter', clientId, data, id).catch((err: unknown) => {
        const { Err, ErrorInfo } = this.kit;
        const reason = ErrorInfo.of(
          Err.presenceReenterFailed,
          `Automatic re-enter of ${clientId} failed`,
          ErrorInfo.from(err),
        );
        this.channel.emit('update', {
          previous: this.channel.state,
          current: this.channel.state,
          event: 'update',
          reason,
          resumed: false,
        });
      });
    }
  }
}
