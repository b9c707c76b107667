/**
 * One room: the channel `chat:<room>` with its last messages (rewind), the people in it (presence,
 * entered on join and left on leave), who is typing (presence data), and sending with delivery
 * state. Talks to the page only through the `RoomView` callbacks.
 */
import type { Message, PresenceMessage, Realtime, RealtimeChannel } from '@encke/client';
import { MessageLog, type ChatMessage } from './messages.js';
import { channelOf } from './names.js';
import { TypingBoard, TypingSender } from './typing.js';

/** Messages a room shows from before you joined. */
export const HISTORY_ON_JOIN = 50;
const MESSAGE_NAME = 'chat';

export interface Member {
  clientId: string;
  /** Connections (tabs) this person is present with. */
  connections: number;
}

export interface RoomView {
  message(m: ChatMessage, added: boolean): void;
  members(members: Member[]): void;
  typing(clientIds: string[]): void;
  problem(text: string | undefined): void;
}

interface PresenceData {
  typing?: unknown;
}

const isTyping = (data: unknown): boolean =>
  typeof data === 'object' && data !== null && (data as PresenceData).typing === true;
const textOf = (data: unknown): string | undefined => {
  const text = typeof data === 'object' && data !== null ? (data as { text?: unknown }).text : undefined;
  return typeof text === 'string' ? text : undefined;
};

function newMessageId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

export class Room {
  readonly log: MessageLog;
  private readonly channel: RealtimeChannel;
  private readonly board: TypingBoard;
  readonly typing: TypingSender;
  private left = false;

  constructor(
    private readonly client: Realtime,
    readonly name: string,
    private readonly me: string,
    private readonly view: RoomView,
  ) {
    this.channel = client.channels.get(channelOf(name), { params: { rewind: String(HISTORY_ON_JOIN) } });
    this.log = new MessageLog((m, added) => view.message(m, added));
    this.board = new TypingBoard((ids) => view.typing(ids));
    this.typing = new TypingSender((typing) => this.sayTyping(typing));
  }

  async join(): Promise<void> {
    await this.channel.subscribe(MESSAGE_NAME, (m) => this.onMessage(m));
    await this.channel.presence.subscribe((p) => this.onPresence(p));
    await this.channel.presence.enter({ typing: false });
    await this.refreshMembers();
  }

  async leave(): Promise<void> {
    this.left = true;
    this.typing.stop();
    this.board.reset();
    this.channel.unsubscribe();
    this.channel.presence.unsubscribe();
    if (this.client.connection.state === 'connected') await this.channel.presence.leave().catch(() => undefined);
    await this.client.channels.release(this.channel.name).catch(() => undefined);
  }

  /** Sends a new message; its delivery state follows in the log. */
  send(text: string): void {
    this.typing.stop();
    const m = this.log.sent(newMessageId(), this.me, text, Date.now());
    this.publish(m.id, text);
  }

  /** Sends a failed message again, with the same id. */
  retry(id: string): void {
    const m = this.log.get(id);
    if (!m || m.delivery !== 'failed') return;
    // A connection that gave up (suspended) waits long before trying again: try now.
    const state = this.client.connection.state;
    if (state === 'suspended' || state === 'disconnected') this.client.connect();
    this.log.retrying(id);
    this.publish(id, m.text);
  }

  private publish(id: string, text: string): void {
    this.channel.publish({ id, name: MESSAGE_NAME, data: { text } }).then(
      () => this.log.acknowledged(id),
      (err: unknown) => this.log.failed(id, err instanceof Error ? err.message : String(err)),
    );
  }

  private sayTyping(typing: boolean): void {
    if (this.left) return;
    this.channel.presence.update({ typing }).catch(() => undefined);
  }

  private onMessage(m: Message): void {
    const text = textOf(m.data);
    if (text === undefined || !m.id || !m.clientId) return;
    this.board.clear(m.clientId);
    this.log.received(m.id, m.clientId, text, m.timestamp ?? Date.now(), m.clientId === this.me);
  }

  private onPresence(p: PresenceMessage): void {
    if (p.clientId !== this.me) {
      if (p.action === 'leave' || p.action === 'absent') this.board.clear(p.clientId);
      else this.board.signal(p.clientId, isTyping(p.data));
    }
    void this.refreshMembers();
  }

  private async refreshMembers(): Promise<void> {
    if (this.left) return;
    const present = await this.channel.presence.get({ waitForSync: false });
    const byClient = new Map<string, Member>();
    for (const p of present) {
      const member = byClient.get(p.clientId) ?? { clientId: p.clientId, connections: 0 };
      member.connections++;
      byClient.set(p.clientId, member);
    }
    // Someone who left on every connection no longer types.
    for (const id of this.board.typers()) if (!byClient.has(id)) this.board.clear(id);
    this.view.members([...byClient.values()].sort((a, b) => a.clientId.localeCompare(b.clientId)));
  }
}
