/**
 * The chat page: pick a name, then chat in rooms. The page never holds an API key: the server's
 * demo token endpoint (`/demo/token`) issues a token for the chosen name, limited to `chat:*`.
 * The transport picker forces one transport of @encke/client (or lets it choose).
 */
import { Realtime, type ConnectionStateChange } from '@encke/client';
import { isArrayValue, parseJson } from '@encke/protocol/unknown';
import { cleanName, DEFAULT_ROOMS, ROOM, transportLabel } from './names.js';
import { Room } from './room.js';
import { TRANSPORT_NAMES, type TransportName } from './transports.js';
import { byId, MessagesView, renderConnection, renderMembers, renderTyping } from './view.js';

const NAME_KEY = 'encke-chat:name';
const LAST_NAME_KEY = 'encke-chat:last-name';
const TRANSPORT_KEY = 'encke-chat:transport';
const ROOMS_KEY = 'encke-chat:rooms';
/** Plain polling asks this often: a chat wants typing indicators within half a second. */
const POLL_INTERVAL = 250;
/** Reconnect soon after a drop, and keep trying every few seconds once offline (the library's defaults: 15 s and 30 s). */
const RETRY_AFTER = 2000;
const RETRY_OFFLINE_AFTER = 5000;

interface State {
  me: string;
  client: Realtime;
  room: Room | undefined;
  messages: MessagesView;
}

let state: State | undefined;

function chosenTransport(): TransportName | undefined {
  const t = sessionStorage.getItem(TRANSPORT_KEY);
  return t && (TRANSPORT_NAMES as readonly string[]).includes(t) ? (t as TransportName) : undefined;
}

function newClient(me: string): Realtime {
  const secure = location.protocol === 'https:';
  const port = Number(location.port) || (secure ? 443 : 80);
  const transport = chosenTransport();
  const client = new Realtime({
    authUrl: new URL('/demo/token', location.href).href,
    authParams: { clientId: me },
    clientId: me,
    endpoint: location.hostname,
    ...(secure ? { tls: true, tlsPort: port } : { tls: false, port }),
    ...(transport ? { transports: [transport] } : {}),
    pollInterval: POLL_INTERVAL,
    disconnectedRetryTimeout: RETRY_AFTER,
    suspendedRetryTimeout: RETRY_OFFLINE_AFTER,
  });
  const show = (change?: ConnectionStateChange): void =>
    renderConnection(
      client.connection.state,
      client.connection.transport,
      change?.reason?.message ?? client.connection.errorReason?.message,
    );
  client.connection.on(show);
  show();
  return client;
}

/** Rooms live in the address as `#room/<name>`; other fragments (the skip link's) are not rooms. */
const ROOM_HASH = /^#room\/(.+)$/;

function roomInHash(): string | undefined {
  const m = ROOM_HASH.exec(location.hash);
  const room = m ? decodeURIComponent(m[1]!) : undefined;
  return room !== undefined && ROOM.test(room) ? room : undefined;
}

function currentRoom(): string {
  return roomInHash() ?? state?.room?.name ?? DEFAULT_ROOMS[0]!;
}

function savedRooms(): string[] {
  try {
    const saved = parseJson(localStorage.getItem(ROOMS_KEY) ?? '[]');
    return isArrayValue(saved) ? saved.filter((r): r is string => typeof r === 'string' && ROOM.test(r)) : [];
  } catch {
    return [];
  }
}

function renderRooms(active: string): void {
  const rooms = [...new Set([...DEFAULT_ROOMS, ...savedRooms(), active])];
  byId('room-list').replaceChildren(
    ...rooms.map((room) => {
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = `#room/${room}`;
      a.textContent = `# ${room}`;
      if (room === active) a.setAttribute('aria-current', 'page');
      li.append(a);
      return li;
    }),
  );
  byId('room-title').textContent = `# ${active}`;
  document.title = `# ${active} · encke chat`;
}

async function enterRoom(s: State, name: string): Promise<void> {
  const previous = s.room;
  s.room = undefined;
  await previous?.leave();
  s.messages.clear();
  renderRooms(name);
  renderMembers(s.me, []);
  renderTyping([]);
  const room = new Room(s.client, name, s.me, {
    message: (m, added) => s.messages.render(m, added),
    members: (members) => renderMembers(s.me, members),
    typing: (ids) => renderTyping(ids),
    problem: (text) => (byId('typing').textContent = text ?? ''),
  });
  s.room = room;
  try {
    await room.join();
  } catch (err) {
    byId('typing').textContent = `Could not join # ${name}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

function start(me: string): void {
  sessionStorage.setItem(NAME_KEY, me);
  localStorage.setItem(LAST_NAME_KEY, me);
  byId('join').hidden = true;
  byId('chat').hidden = false;
  const s: State = {
    me,
    client: newClient(me),
    room: undefined,
    messages: new MessagesView(me, (id) => s.room?.retry(id)),
  };
  state = s;
  void enterRoom(s, currentRoom());
  byId<HTMLTextAreaElement>('composer-text').focus();
}

/** The picker changed: start again with the new transport, in the same room. */
async function restart(): Promise<void> {
  const s = state;
  if (!s) return;
  const room = s.room?.name ?? currentRoom();
  await s.room?.leave();
  s.room = undefined;
  s.client.close();
  s.client = newClient(s.me);
  await enterRoom(s, room);
}

function send(): void {
  const box = byId<HTMLTextAreaElement>('composer-text');
  const text = box.value.trim();
  if (!text || !state?.room) return;
  state.room.send(text);
  box.value = '';
  box.style.height = '';
}

function setUpPicker(): void {
  const select = byId<HTMLSelectElement>('transport');
  const auto = new Option('Automatic', '');
  select.append(auto, ...TRANSPORT_NAMES.map((t) => new Option(`${transportLabel(t)} (${t})`, t)));
  select.value = chosenTransport() ?? '';
  select.addEventListener('change', () => {
    if (select.value) sessionStorage.setItem(TRANSPORT_KEY, select.value);
    else sessionStorage.removeItem(TRANSPORT_KEY);
    void restart();
  });
}

function setUpForms(): void {
  const nameInput = byId<HTMLInputElement>('join-name');
  nameInput.value = localStorage.getItem(LAST_NAME_KEY) ?? '';
  byId<HTMLFormElement>('join-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const me = cleanName(nameInput.value);
    if (!me) {
      byId('join-error').textContent = "Use 1 to 32 letters, digits, spaces or ._'- (starting with a letter or digit).";
      return;
    }
    start(me);
  });
  byId<HTMLFormElement>('room-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = byId<HTMLInputElement>('room-name');
    const room = input.value.trim().toLowerCase();
    if (!ROOM.test(room)) return input.reportValidity();
    localStorage.setItem(ROOMS_KEY, JSON.stringify([...new Set([...savedRooms(), room])]));
    input.value = '';
    location.hash = `room/${room}`;
  });
  const box = byId<HTMLTextAreaElement>('composer-text');
  byId<HTMLFormElement>('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    send();
  });
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });
  box.addEventListener('input', () => {
    state?.room?.typing.keystroke(box.value.trim() === '');
    box.style.height = '';
    box.style.height = `${Math.min(box.scrollHeight, 160)}px`;
  });
}

function boot(): void {
  setUpPicker();
  setUpForms();
  window.addEventListener('hashchange', () => {
    const room = roomInHash();
    if (state && room !== undefined && room !== state.room?.name) void enterRoom(state, room);
  });
  renderConnection('idle', undefined);
  const me = cleanName(sessionStorage.getItem(NAME_KEY) ?? '');
  if (me) start(me);
}

boot();
