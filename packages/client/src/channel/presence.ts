/**
 * A channel's presence (RTP), as the application sees it. The member set and its SYNC logic live in
 * presence-core.ts, loaded the first time presence is used or the server announces members; until
 * then what arrives is kept, in order, for it.
 */
import type { ProtocolMessage } from '@encke/protocol/types';
import type { ConnectionManager } from '../connection/manager.js';
import { kit } from '../kit.js';
import { Emitter, type Listener } from '../util/emitter.js';
import type { HistoryParams, RealtimeChannel } from './channel.js';
import type { PresenceActionName, PresenceMessage } from './message.js';
import type { PageRequest, PaginatedResult } from './paginated.js';
import type { PresenceCore } from './presence-core.js';

export interface PresenceGetParams {
  clientId?: string;
  connectionId?: string;
  /** Wait for the set to be in sync first. @default true */
  waitForSync?: boolean;
}

export class RealtimePresence {
  private readonly subscribers = new Emitter<PresenceActionName, PresenceMessage>();
  private core: PresenceCore | undefined;
  private loading: Promise<PresenceCore> | undefined;
  private backlog: ((core: PresenceCore) => void)[] = [];

  constructor(
    private readonly channel: RealtimeChannel,
    private readonly conn: ConnectionManager,
    private readonly pages: PageRequest,
  ) {}

  /** Whether the member set is complete (no SYNC under way). */
  get syncComplete(): boolean {
    return this.core?.syncComplete ?? this.loading === undefined;
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

  private async act(verb: 'enter' | 'update' | 'leave', clientId: string | undefined, data: unknown): Promise<void> {
    return (await this.load()).act(verb, clientId, data);
  }

  /** The members; waits for the set to be in sync unless told not to (RTP11). */
  async get(params: PresenceGetParams = {}): Promise<PresenceMessage[]> {
    return (await this.load()).get(params);
  }

  subscribe(listener: Listener<PresenceMessage>): Promise<void>;
  subscribe(actions: PresenceActionName | PresenceActionName[], listener: Listener<PresenceMessage>): Promise<void>;
  async subscribe(
    a: PresenceActionName | PresenceActionName[] | Listener<PresenceMessage>,
    b?: Listener<PresenceMessage>,
  ): Promise<void> {
    this.subscribers.on(a, b);
    await this.load();
    await this.channel.attach();
  }

  unsubscribe(listener?: Listener<PresenceMessage>): void {
    this.subscribers.off(listener);
  }

  async history(params: Omit<HistoryParams, 'untilAttach'> = {}): Promise<PaginatedResult<PresenceMessage>> {
    return (await import('./paginated.js')).history(
      this.pages,
      this.conn.baseUrl,
      this.channel.name,
      'presence/history',
      params,
    );
  }

  // ---- driven by the channel, in order ----

  onAttached(hasPresence: boolean, continued: boolean): void {
    if (hasPresence || this.core || this.loading) this.run((c) => c.onAttached(hasPresence, continued));
  }

  onDetached(): void {
    if (this.core || this.loading) this.run((c) => c.onDetached());
  }

  onMessage(pm: ProtocolMessage): void {
    this.run((c) => c.onMessage(pm));
  }

  private run(step: (core: PresenceCore) => void): void {
    if (this.core) return step(this.core);
    this.backlog.push(step);
    void this.load();
  }

  private load(): Promise<PresenceCore> {
    this.loading ??= import('./presence-core.js').then((m) => {
      const core = new m.PresenceCore(kit, this.channel, this.conn, this.subscribers);
      for (const step of this.backlog.splice(0)) step(core);
      this.core = core;
      return core;
    });
    return this.loading;
  }
}
