/** Tables and figures of the dashboard, with an empty state for each. Text goes in as text, never HTML. */
import { DASHBOARD_APP, DASHBOARD_CHANNEL } from '@encke/protocol/dashboard';
import type { DashboardApp } from '@encke/protocol';
import type { ChannelRow, Cluster, ErrorRow, NodeRow } from './cluster.js';
import { ago, bytes, duration, formatRate, transportLabel } from './format.js';

/** Channels shown at once; the search looks through every channel the nodes listed. */
export const TOP_CHANNELS = 20;

type Cell = string | number | Node | { text: string; className: string };

export function byId<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`#${id} is missing from the page`);
  return e as T;
}

function cell(tag: 'td' | 'th', c: Cell): HTMLTableCellElement {
  const td = document.createElement(tag);
  if (typeof c === 'number') {
    td.textContent = String(c);
    td.className = 'num';
  } else if (typeof c === 'string') td.textContent = c;
  else if (c instanceof Node) td.append(c);
  else {
    td.textContent = c.text;
    td.className = c.className;
  }
  return td;
}

const num = (text: string): Cell => ({ text, className: 'num' });
const percent = (fraction: number): string =>
  fraction >= 0.1 ? `${Math.round(fraction * 100)}%` : `${(fraction * 100).toFixed(1)}%`;

/** Fills `table` with a header row and `rows`, or one row saying `empty`. */
export function fillTable(
  table: HTMLTableElement,
  headers: readonly Cell[],
  rows: readonly Cell[][],
  empty: string,
): void {
  const head = document.createElement('thead');
  const hr = document.createElement('tr');
  for (const h of headers) {
    const th = cell('th', h);
    th.scope = 'col';
    hr.append(th);
  }
  head.append(hr);
  const body = document.createElement('tbody');
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = cell('td', { text: empty, className: 'empty' });
    td.colSpan = headers.length;
    tr.append(td);
    body.append(tr);
  }
  for (const r of rows) {
    const tr = document.createElement('tr');
    for (const c of r) tr.append(cell('td', c));
    body.append(tr);
  }
  table.replaceChildren(head, body);
}

function badge(text: string, kind: string): HTMLElement {
  const b = document.createElement('span');
  b.className = `badge ${kind}`;
  b.textContent = text;
  return b;
}

function withBadge(text: string, b: HTMLElement): HTMLElement {
  const span = document.createElement('span');
  span.append(text, ' ', b);
  return span;
}

export function renderTransports(cluster: Cluster, now: number): void {
  const { byTransport, resumable } = cluster.connections(now);
  const rows: Cell[][] = [...byTransport]
    .filter(([, f]) => Object.values(f).some((n) => n > 0))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([t, f]) => [transportLabel(t), f.json ?? 0, f.msgpack ?? 0, Object.values(f).reduce((s, n) => s + n, 0)]);
  if (resumable > 0) rows.push([{ text: 'Waiting to resume', className: 'muted' }, '', '', resumable]);
  fillTable(byId('transports'), ['Transport', num('JSON'), num('MsgPack'), num('Total')], rows, 'No connections');
}

export function renderChannels(cluster: Cluster, now: number, query: string): void {
  const { rows, total } = cluster.channels(now);
  const q = query.trim().toLowerCase();
  const matching = q ? rows.filter((r) => r.name.toLowerCase().includes(q) || r.app.toLowerCase().includes(q)) : rows;
  const shown = matching.slice(0, TOP_CHANNELS);
  const cells = (r: ChannelRow): Cell[] => [
    r.app === DASHBOARD_APP && r.name === DASHBOARD_CHANNEL ? withBadge(r.name, badge('this feed', 'info')) : r.name,
    { text: r.app, className: 'muted' },
    r.connections,
    r.subscribers,
    r.publishers,
    r.presenceMembers === null ? num('–') : r.presenceMembers,
    num(formatRate(r.rates.in)),
    num(formatRate(r.rates.out)),
  ];
  const headers: Cell[] = [
    'Channel',
    'App',
    num('Attached'),
    num('Subscribers'),
    num('Publishers'),
    num('Presence'),
    num('In / s'),
    num('Out / s'),
  ];
  const empty = q ? `No channel matches “${query.trim()}”` : 'No channels with attachments yet';
  fillTable(byId('channels'), headers, shown.map(cells), empty);
  byId('channels-foot').textContent =
    rows.length === 0
      ? ''
      : `Showing ${shown.length} of ${q ? `${matching.length} matching, ` : ''}${total} channel${total === 1 ? '' : 's'}, busiest first.`;
}

export function renderNodes(cluster: Cluster, now: number): void {
  const rows = cluster
    .nodeRows(now)
    .map((n: NodeRow): Cell[] => [
      n.id,
      badge(n.liveness === 'live' ? 'live' : `silent ${ago(now - n.seenAt)}`, n.liveness),
      n.engine,
      n.connections,
      num(percent(n.cpu)),
      num(bytes(n.rss)),
      num(`${n.eventLoopDelay.toFixed(1)} ms`),
      num(duration(n.uptime)),
    ]);
  fillTable(
    byId('nodes'),
    ['Node', 'State', 'Engine', num('Conns'), num('CPU'), num('Memory'), num('Loop delay'), num('Up')],
    rows,
    'No node has reported yet',
  );
}

export function renderErrors(cluster: Cluster, now: number): ErrorRow[] {
  const errors = cluster.errors(now);
  const rows = errors.map((e): Cell[] => [
    { text: e.code, className: 'code' },
    e.title,
    e.recent,
    e.total,
    e.lastSeen === undefined ? { text: '–', className: 'muted' } : { text: ago(now - e.lastSeen), className: 'when' },
  ]);
  fillTable(byId('errors'), ['Code', 'Error', num('5 min'), num('Total'), 'Last'], rows, 'No errors sent to clients');
  const faults = Object.entries(cluster.faults(now));
  const line = byId('faults');
  line.textContent = faults.length === 0 ? '' : `Faults: ${faults.map(([kind, n]) => `${kind} ${n}`).join(' · ')}`;
  line.title = 'Exceptions the server caught as a last resort, by kind: each one is a bug (see the error log)';
  line.classList.toggle(
    'bad',
    faults.some(([, n]) => n > 0),
  );
  return errors;
}

export function renderApps(apps: readonly DashboardApp[]): void {
  const rows: Cell[][] = [];
  for (const app of apps) {
    const keys = document.createElement('ul');
    keys.className = 'keys';
    for (const k of app.keys) {
      const li = document.createElement('li');
      const name = document.createElement('code');
      name.textContent = k.name;
      const cap = document.createElement('code');
      cap.className = 'cap';
      cap.textContent = k.capability;
      li.append(name, ' ', cap);
      if (k.revocableTokens) li.append(' ', badge('revocable tokens', 'info'));
      keys.append(li);
    }
    const id = document.createElement('span');
    id.textContent = app.id;
    if (app.tlsOnly) id.append(' ', badge('TLS only', 'info'));
    rows.push([id, app.connections, keys]);
  }
  fillTable(byId('apps'), ['App', num('Conns'), 'Keys (name and capability)'], rows, 'No apps configured');
}
