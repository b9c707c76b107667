/**
 * Realtime presence (RTP): enter/update/leave for this client (or any client with a wildcard
 * identity), the member set kept by PRESENCE and SYNC, `get` once the set is in sync, and
 * automatic re-entry of this connection's members after an attachment that lost them (RTP17).
 */
import type { ProtocolMessage, PresenceMessage as WirePresence } from '@encke/protocol/types';
import { Action, PresenceAction } from '@encke/protocol/constants';
import { Err, ErrorInfo } from '../errors.js';
import type { ConnectionManager } from '../connection/manager.js';
import { Emitter, type Listener } from '../util/emitter.js';
import { decodePresence, encodeData, type PresenceActionName, type PresenceMessage } from './message.js';
import { getPage, type PageRequest, type PaginatedResult } from './paginated.js';
import { PresenceMap } from './presence-map.js';
import type { HistoryParams, RealtimeChannel } from './channel.js';

export interface PresenceGetParams {
  clientId?: string;
  connectionId?: string;
  /** Wait for the set to be in sync first. @default true */
  waitForSync?: boolean;
}

type PresenceVerb = 'enter' | 'update' | 'leave';
const VERB_ACTION = { enter: PresenceAction.ENTER, update: PresenceAction.UPDATE, leave: PresenceAction.LEAVE } as const;

export class RealtimePresence {
  private readonly map = new PresenceMap();
  private readonly subscribers = new Emitter<PresenceActionName, PresenceMessage>();
  private readonly synced = new Emitter<'sync', void>();
  /** This connection's own members, by clientId, to re-enter (RTP17). */
  private readonly own = new Map<string, { data: unknown; id: string | undefined }>();

  constructor(
    private readonly channel: RealtimeChannel,
    private readonly conn: ConnectionManager,
    private readonly pages: PageRequest,
  ) {}

  get syncComplete(): boolean {
    return this.map.syncComplete;
  }

  enter(data?: unknown): Promise<void> {
    return this.act('enter', undefined, data);
  }
  update(data?: unknown): Promise<void> {
    return this.act('update', undefined, data);
  }
  leave(data?: unknown): Promise<void> {
    return this.act('leave', undefined, data);
  }
  enterClient(clientId: string, data?: unknown): Promise<void> {
    return this.act('enter', clientId, data);
  }
  updateClient(clientId: string, data?: unknown): Promise<void> {
    return this.act('update', clientId, data);
  }
  leaveClient(clientId: string, data?: unknown): Promise<void> {
    return this.act('leave', clientId, data);
  }

  /** The members; waits for the set to be in sync unless told not to (RTP11). */
  async get(params: PresenceGetParams = {}): Promise<PresenceMessage[]> {
    await this.channel.attach();
    if (params.waitForSync !== false && !this.map.syncComplete) await this.synced.once('sync');
    return this.map.list(params);
  }

  subscribe(listener: Listener<PresenceMessage>): Promise<void>;
  subscribe(actions: PresenceActionName | PresenceActionName[], listener: Listener<PresenceMessage>): Promise<void>;
  async subscribe(a: PresenceActionName | PresenceActionName[] | Listener<PresenceMessage>, b?: Listener<PresenceMessage>): Promise<void> {
    if (typeof a === 'function') this.subscribers.on(a);
    else if (b) this.subscribers.on(a, b);
    await this.channel.attach();
  }

  unsubscribe(listener?: Listener<PresenceMessage>): void {
    this.subscribers.off(listener);
  }

  history(params: Omit<HistoryParams, 'untilAttach'> = {}): Promise<PaginatedResult<PresenceMessage>> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
    const url = `${this.conn.baseUrl}/channels/${encodeURIComponent(this.channel.name)}/presence/history?${q.toString()}`;
    return getPage(this.pages, url, decodePresence);
  }

  private async act(verb: PresenceVerb, clientId: string | undefined, data: unknown): Promise<void> {
    const id = clientId ?? this.conn.auth.clientId;
    if (!id || id === '*') throw ErrorInfo.of(Err.presenceNoClientId, 'Presence needs a clientId (set clientId or use a token with one)');
    if (verb !== 'leave' && this.channel.state !== 'attached') await this.channel.attach();
    if (clientId === undefined) {
      if (verb === 'leave') this.own.delete(id);
      else this.own.set(id, { data, id: undefined });
    }
    await this.sendPresence(verb, id, data, undefined);
  }

  private sendPresence(verb: PresenceVerb, clientId: string, data: unknown, id: string | undefined): Promise<void> {
    const item: WirePresence = { action: VERB_ACTION[verb], clientId, ...encodeData(data, this.conn.options.format) };
    if (id) item.id = id;
    return this.conn.sendAckable({ action: Action.PRESENCE, channel: this.channel.name, presence: [item] }).then(() => undefined);
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
      const m = decodePresence(wire);
      m.id ??= `${pm.id ?? ''}:${i}`;
      if (!m.connectionId) m.connectionId = pm.connectionId ?? '';
      m.timestamp ??= pm.timestamp;
      return m;
    });
    if (pm.action === Action.PRESENCE) {
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
        const reason = ErrorInfo.of(Err.presenceReenterFailed, `Automatic re-enter of ${clientId} failed`, ErrorInfo.from(err));
        this.channel.events.emit('update', { previous: this.channel.state, current: this.channel.state, event: 'update', reason, resumed: false });
      });
    }
  }
}
