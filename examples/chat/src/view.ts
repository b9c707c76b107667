/** Rendering: messages, members, who is typing, the connection line. Text goes in as text, never HTML. */
import { MAX_MESSAGES, type ChatMessage, type Delivery } from './messages.js';
import { hueOf, initials, transportLabel, typingSentence } from './names.js';
import type { Member } from './room.js';

export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function avatar(name: string): HTMLElement {
  const a = el('span', 'avatar', initials(name));
  a.style.setProperty('--hue', String(hueOf(name)));
  a.setAttribute('aria-hidden', 'true');
  return a;
}

const DELIVERY_TEXT: Record<Delivery, string> = {
  pending: 'Sending…',
  acknowledged: '✓ Delivered',
  failed: 'Not sent',
  received: '',
};
const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export class MessagesView {
  private readonly rows = new Map<string, HTMLLIElement>();
  private readonly list = byId<HTMLOListElement>('messages');

  constructor(
    private readonly me: string,
    private readonly retry: (id: string) => void,
  ) {}

  clear(): void {
    this.rows.clear();
    this.list.replaceChildren();
  }

  /** Adds or updates a message's row; keeps the list scrolled to the end if it was there. */
  render(m: ChatMessage, added: boolean): void {
    const atEnd = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
    const row = this.rows.get(m.id) ?? el('li', 'message');
    row.replaceChildren(...this.contents(m));
    row.dataset.id = m.id;
    row.dataset.delivery = m.delivery;
    row.classList.toggle('own', m.clientId === this.me);
    if (added) {
      this.rows.set(m.id, row);
      this.list.append(row);
      while (this.list.children.length > MAX_MESSAGES) {
        const first = this.list.firstElementChild as HTMLLIElement;
        this.rows.delete(first.dataset.id ?? '');
        first.remove();
      }
    }
    if (atEnd || m.clientId === this.me) this.list.scrollTop = this.list.scrollHeight;
  }

  private contents(m: ChatMessage): Node[] {
    const head = el('p', 'meta');
    head.append(
      el('span', 'author', m.clientId === this.me ? `${m.clientId} (you)` : m.clientId),
      el('time', 'when', time.format(m.timestamp)),
    );
    if (m.delivery !== 'received') head.append(this.delivery(m));
    return [avatar(m.clientId), head, el('p', 'text', m.text)];
  }

  /** The delivery state of one of our messages, beside its time; failed ones get a Retry button. */
  private delivery(m: ChatMessage): HTMLElement {
    const state = el('span', `delivery ${m.delivery}`, DELIVERY_TEXT[m.delivery]);
    if (m.delivery !== 'failed') return state;
    state.title = m.error ?? '';
    const again = el('button', 'retry', 'Retry');
    again.type = 'button';
    again.setAttribute('aria-label', `Send "${m.text.slice(0, 40)}" again`);
    again.addEventListener('click', () => this.retry(m.id));
    state.append(' ', again);
    return state;
  }
}

export function renderMembers(me: string, members: readonly Member[]): void {
  byId('members-count').textContent = String(members.length);
  const list = byId<HTMLUListElement>('member-list');
  if (members.length === 0) {
    list.replaceChildren(el('li', 'empty', 'Nobody here yet'));
    return;
  }
  list.replaceChildren(
    ...members.map((m) => {
      const li = el('li', 'member');
      li.dataset.clientId = m.clientId;
      li.title = m.connections > 1 ? `${m.clientId} (${m.connections} tabs)` : m.clientId;
      li.append(avatar(m.clientId), el('span', 'name', m.clientId === me ? `${m.clientId} (you)` : m.clientId));
      if (m.connections > 1) li.append(el('span', 'tabs', `${m.connections} tabs`));
      return li;
    }),
  );
}

export function renderTyping(names: readonly string[]): void {
  byId('typing').textContent = typingSentence(names);
}

export type Health = 'ok' | 'busy' | 'down' | 'idle';

const STATES: Record<string, { text: string; health: Health }> = {
  /** Before joining: no connection yet, nothing wrong. */
  idle: { text: 'Not joined yet', health: 'idle' },
  initialized: { text: 'Connecting…', health: 'busy' },
  connecting: { text: 'Connecting…', health: 'busy' },
  connected: { text: 'Connected', health: 'ok' },
  disconnected: { text: 'Reconnecting…', health: 'busy' },
  suspended: { text: 'Offline', health: 'down' },
  closing: { text: 'Closing…', health: 'busy' },
  closed: { text: 'Not connected', health: 'down' },
  failed: { text: 'Connection failed', health: 'down' },
};

export function renderConnection(state: string, transport: string | undefined, reason?: string): void {
  const s = STATES[state] ?? { text: state, health: 'busy' as Health };
  const conn = byId('conn');
  conn.dataset.state = state;
  conn.dataset.health = s.health;
  conn.dataset.transport = transport ?? '';
  byId('conn-state').textContent = reason && s.health === 'down' ? `${s.text}: ${reason}` : s.text;
  byId('conn-technique').textContent = state === 'connected' && transport ? `via ${transportLabel(transport)}` : '';
  // Offline, the members list is what the page last heard: say so rather than show it as current.
  const offline = s.health === 'down';
  byId('chat').classList.toggle('offline', offline);
  byId('members-stale').hidden = !offline;
}
