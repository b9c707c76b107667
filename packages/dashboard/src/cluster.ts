/**
 * What the dashboard knows: the last snapshots of every node it has heard from on the feed, with
 * the rates derived from consecutive snapshots of each node, merged into cluster-wide figures.
 * Pure (no DOM): the page feeds it snapshots and reads figures out.
 */
import type { DashboardApp, DashboardChannel, DashboardSnapshot } from '@encke/protocol';

/** A node is live while snapshots keep coming; silent after missing a few; dropped after a while. */
export const SILENT_AFTER_INTERVALS = 3;
export const FORGET_AFTER = 5 * 60_000;
/** Errors count as recent for this long. */
export const RECENT_ERRORS = 5 * 60_000;

export type Liveness = 'live' | 'silent';

export interface Rates {
  in: number;
  out: number;
}

interface NodeState {
  last: DashboardSnapshot;
  /** Local time the last snapshot arrived. */
  seenAt: number;
  rates: Rates;
  /** Whether `rates` come from two snapshots (the first one of a node has none). */
  measured: boolean;
  channelRates: Map<string, Rates>;
}

export interface ChannelRow extends Omit<DashboardChannel, 'messagesIn' | 'messagesOut'> {
  key: string;
  rates: Rates;
}

export interface ErrorRow {
  code: string;
  title: string;
  total: number;
  recent: number;
  lastSeen: number | undefined;
}

export interface NodeRow {
  id: string;
  engine: string;
  liveness: Liveness;
  seenAt: number;
  connections: number;
  cpu: number;
  rss: number;
  heapUsed: number;
  eventLoopDelay: number;
  rates: Rates;
  uptime: number;
}

const perSecond = (delta: number, ms: number): number => (ms > 0 && delta > 0 ? (delta * 1000) / ms : 0);
const channelKey = (c: { app: string; name: string }): string => `${c.app}\u0000${c.name}`;

export function connectionsOf(s: DashboardSnapshot): number {
  let n = 0;
  for (const byFormat of Object.values(s.metrics.connections)) for (const c of Object.values(byFormat)) n += c;
  return n;
}

export class Cluster {
  private readonly nodes = new Map<string, NodeState>();
  /** Error increases seen, per code: [local time, how many]. */
  private readonly errorEvents = new Map<string, [number, number][]>();
  private readonly titles = new Map<string, string>();

  /** A snapshot from the feed, received at local time `now`. */
  accept(s: DashboardSnapshot, now: number): void {
    const prev = this.nodes.get(s.node.id);
    const same = prev !== undefined && prev.last.node.startedAt === s.node.startedAt && s.at > prev.last.at;
    if (prev && !same && prev.last.node.startedAt === s.node.startedAt) return; // late or repeated
    const ms = same ? s.at - prev.last.at : 0;
    const rates: Rates = same
      ? {
          in: perSecond(s.metrics.messagesIn - prev.last.metrics.messagesIn, ms),
          out: perSecond(s.metrics.messagesOut - prev.last.metrics.messagesOut, ms),
        }
      : { in: 0, out: 0 };
    const before = new Map((same ? prev.last.channels.listed : []).map((c) => [channelKey(c), c]));
    const channelRates = new Map<string, Rates>();
    for (const c of s.channels.listed) {
      const b = before.get(channelKey(c));
      channelRates.set(
        channelKey(c),
        b
          ? { in: perSecond(c.messagesIn - b.messagesIn, ms), out: perSecond(c.messagesOut - b.messagesOut, ms) }
          : { in: 0, out: 0 },
      );
    }
    for (const [code, title] of Object.entries(s.errorTitles)) this.titles.set(code, title);
    if (same) {
      for (const [code, count] of Object.entries(s.metrics.errors)) {
        const grew = count - (prev.last.metrics.errors[code] ?? 0);
        if (grew > 0) (this.errorEvents.get(code) ?? this.errorEvents.set(code, []).get(code)!).push([now, grew]);
      }
    }
    this.nodes.set(s.node.id, { last: s, seenAt: now, rates, measured: same, channelRates });
  }

  liveness(n: NodeState, now: number): Liveness {
    return now - n.seenAt <= n.last.interval * SILENT_AFTER_INTERVALS ? 'live' : 'silent';
  }

  /** Nodes heard from recently (forgets those silent for FORGET_AFTER). */
  private current(now: number): NodeState[] {
    for (const [id, n] of this.nodes) if (now - n.seenAt > FORGET_AFTER) this.nodes.delete(id);
    return [...this.nodes.values()];
  }

  private live(now: number): NodeState[] {
    return this.current(now).filter((n) => this.liveness(n, now) === 'live');
  }

  get heardFrom(): boolean {
    return this.nodes.size > 0;
  }

  /** Whether some live node has measured rates (a chart point would mean something). */
  hasRates(now: number): boolean {
    return this.live(now).some((n) => n.measured);
  }

  rates(now: number): Rates {
    const sum: Rates = { in: 0, out: 0 };
    for (const n of this.live(now)) {
      sum.in += n.rates.in;
      sum.out += n.rates.out;
    }
    return sum;
  }

  /** Connections by transport then format, the total, and those waiting for a resume (live nodes). */
  connections(now: number): { byTransport: Map<string, Record<string, number>>; total: number; resumable: number } {
    const byTransport = new Map<string, Record<string, number>>();
    let total = 0;
    let resumable = 0;
    for (const n of this.live(now)) {
      resumable += n.last.metrics.resumable;
      for (const [transport, byFormat] of Object.entries(n.last.metrics.connections)) {
        const row = byTransport.get(transport) ?? {};
        for (const [format, count] of Object.entries(byFormat)) {
          row[format] = (row[format] ?? 0) + count;
          total += count;
        }
        byTransport.set(transport, row);
      }
    }
    return { byTransport, total, resumable };
  }

  /** Channels of every live node merged: attachments summed, presence from the channel, rates in as one node saw them, out summed. */
  channels(now: number): { rows: ChannelRow[]; total: number } {
    const rows = new Map<string, ChannelRow>();
    let total = 0;
    for (const n of this.live(now)) {
      total = Math.max(total, n.last.channels.total);
      for (const c of n.last.channels.listed) {
        const key = channelKey(c);
        const r = n.channelRates.get(key) ?? { in: 0, out: 0 };
        const row = rows.get(key);
        if (!row) {
          rows.set(key, {
            key,
            app: c.app,
            name: c.name,
            connections: c.connections,
            subscribers: c.subscribers,
            publishers: c.publishers,
            presenceMembers: c.presenceMembers,
            rates: { ...r },
          });
          continue;
        }
        row.connections += c.connections;
        row.subscribers += c.subscribers;
        row.publishers += c.publishers;
        if (c.presenceMembers !== null) row.presenceMembers = Math.max(row.presenceMembers ?? 0, c.presenceMembers);
        row.rates.in = Math.max(row.rates.in, r.in);
        row.rates.out += r.out;
      }
    }
    const list = [...rows.values()].sort(
      (a, b) =>
        b.rates.out + b.rates.in - (a.rates.out + a.rates.in) ||
        b.connections - a.connections ||
        a.name.localeCompare(b.name),
    );
    return { rows: list, total: Math.max(total, list.length) };
  }

  /** Presence members over the channels that count them. */
  presenceMembers(now: number): number {
    let n = 0;
    for (const row of this.channels(now).rows) n += row.presenceMembers ?? 0;
    return n;
  }

  errors(now: number): ErrorRow[] {
    const totals = new Map<string, number>();
    for (const n of this.current(now))
      for (const [code, count] of Object.entries(n.last.metrics.errors))
        totals.set(code, (totals.get(code) ?? 0) + count);
    return [...totals]
      .map(([code, total]) => {
        const events = (this.errorEvents.get(code) ?? []).filter(([t]) => now - t <= RECENT_ERRORS);
        this.errorEvents.set(code, events);
        return {
          code,
          title: this.titles.get(code) ?? 'Error',
          total,
          recent: events.reduce((s, [, k]) => s + k, 0),
          lastSeen: events.at(-1)?.[0],
        };
      })
      .sort((a, b) => b.recent - a.recent || b.total - a.total);
  }

  /** Last-resort faults by kind, summed over the nodes heard from (cumulative since each started). */
  faults(now: number): Record<string, number> {
    const sum: Record<string, number> = {};
    for (const n of this.current(now))
      for (const [kind, count] of Object.entries(n.last.metrics.faults ?? {})) sum[kind] = (sum[kind] ?? 0) + count;
    return sum;
  }

  nodeRows(now: number): NodeRow[] {
    return this.current(now)
      .map((n) => ({
        id: n.last.node.id,
        engine: n.last.node.engine,
        liveness: this.liveness(n, now),
        seenAt: n.seenAt,
        connections: connectionsOf(n.last),
        cpu: n.last.node.cpu,
        rss: n.last.node.rss,
        heapUsed: n.last.node.heapUsed,
        eventLoopDelay: n.last.node.eventLoopDelay,
        rates: n.rates,
        uptime: n.last.at - n.last.node.startedAt,
      }))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Apps as the freshest node lists them (every node has the same config), connections summed over live nodes. */
  apps(now: number): DashboardApp[] {
    const nodes = this.current(now).sort((a, b) => b.seenAt - a.seenAt);
    const freshest = nodes[0];
    if (!freshest) return [];
    const connections = new Map<string, number>();
    for (const n of this.live(now))
      for (const a of n.last.apps) connections.set(a.id, (connections.get(a.id) ?? 0) + a.connections);
    return freshest.last.apps.map((a) => ({ ...a, connections: connections.get(a.id) ?? 0 }));
  }
}
