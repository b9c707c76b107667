/**
 * The admin dashboard: subscribes to the admin app's `dashboard` channel with @encke/client (its
 * token comes from `/admin/token`, which needs the admin session cookie), folds every node's
 * snapshots into a Cluster, and redraws once a second. No polling: the feed is pushed by encke.
 */
import { Realtime, type Message } from '@encke/client';
import {
  DASHBOARD_CHANNEL,
  DASHBOARD_SNAPSHOT,
  DASHBOARD_VERSION,
  type DashboardSnapshot,
} from '@encke/protocol/dashboard';
import { drawChart, formatRate, WINDOW, type Point } from './chart.js';
import { Cluster } from './cluster.js';
import { transportLabel } from './format.js';
import { byId, renderApps, renderChannels, renderErrors, renderNodes, renderTransports } from './render.js';

const REDRAW_EVERY = 1000;

const cluster = new Cluster();
const series: Point[] = [];
let client: Realtime | undefined;

function isSnapshot(data: unknown): data is DashboardSnapshot {
  return typeof data === 'object' && data !== null && (data as { version?: unknown }).version === DASHBOARD_VERSION;
}

function feedStatus(): void {
  const feed = byId('feed');
  const state = client?.connection.state ?? 'initialized';
  const nodes = cluster.nodeRows(Date.now()).filter((n) => n.liveness === 'live').length;
  let text: string;
  if (state === 'connected')
    text = `Live · ${nodes} node${nodes === 1 ? '' : 's'} reporting · via ${transportLabel(client?.connection.transport ?? '')}`;
  else if (state === 'failed' || state === 'suspended')
    text = `Feed lost: ${client?.connection.errorReason?.message ?? state}. Reload, or sign in again.`;
  else text = state === 'disconnected' ? 'Reconnecting to the live feed…' : 'Connecting to the live feed…';
  feed.dataset.state = state;
  byId('feed-text').textContent = text;
}

function redraw(): void {
  const now = Date.now();
  const rates = cluster.rates(now);
  if (cluster.hasRates(now)) {
    series.push({ t: now / 1000, in: rates.in, out: rates.out });
    while (series.length > 0 && series[0]!.t < now / 1000 - WINDOW - 2) series.shift();
  }
  drawChart(byId<HTMLElement>('chart') as unknown as SVGSVGElement, series, now / 1000);
  const heard = cluster.heardFrom;
  const conns = cluster.connections(now);
  byId('kpi-connections').textContent = heard ? String(conns.total) : '–';
  byId('kpi-connections-note').textContent = heard ? 'this dashboard included' : '';
  byId('kpi-in').textContent = heard ? formatRate(rates.in) : '–';
  byId('kpi-in').dataset.value = String(rates.in);
  byId('kpi-out').textContent = heard ? formatRate(rates.out) : '–';
  byId('kpi-out').dataset.value = String(rates.out);
  byId('kpi-channels').textContent = heard ? String(cluster.channels(now).total) : '–';
  byId('kpi-presence').textContent = heard ? String(cluster.presenceMembers(now)) : '–';
  renderTransports(cluster, now);
  renderChannels(cluster, now, byId<HTMLInputElement>('channel-search').value);
  renderNodes(cluster, now);
  const errors = renderErrors(cluster, now);
  const recentErrors = errors.reduce((s, e) => s + e.recent, 0);
  byId('kpi-errors').textContent = heard ? String(recentErrors) : '–';
  byId('kpi-errors').classList.toggle('bad', recentErrors > 0);
  renderApps(cluster.apps(now));
  feedStatus();
}

function onSnapshot(m: Message): void {
  if (isSnapshot(m.data)) cluster.accept(m.data, Date.now());
}

function boot(): void {
  const secure = location.protocol === 'https:';
  const port = Number(location.port) || (secure ? 443 : 80);
  client = new Realtime({
    authUrl: new URL('/admin/token', location.href).href,
    endpoint: location.hostname,
    ...(secure ? { tls: true, tlsPort: port } : { tls: false, port }),
    disconnectedRetryTimeout: 2000,
  });
  client.connection.on(() => feedStatus());
  void client.channels.get(DASHBOARD_CHANNEL).subscribe(DASHBOARD_SNAPSHOT, onSnapshot);
  byId<HTMLInputElement>('channel-search').addEventListener('input', () =>
    renderChannels(cluster, Date.now(), byId<HTMLInputElement>('channel-search').value),
  );
  redraw();
  setInterval(redraw, REDRAW_EVERY);
}

boot();
