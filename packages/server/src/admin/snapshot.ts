/**
 * One node's dashboard snapshot (`DashboardSnapshot`, @encke/protocol): its load, the numbers it
 * exports on /metrics, its busiest channels with occupancy, presence and message counts, and the
 * apps and keys it serves (names and capabilities, never secrets). Bounded: at most
 * `MAX_LISTED_CHANNELS` channels, fewer when the snapshot would not fit in one message.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import {
  DASHBOARD_VERSION,
  Err,
  type DashboardApp,
  type DashboardChannel,
  type DashboardNode,
  type DashboardSnapshot,
} from '@encke/protocol';
import { capabilityToJson } from '../auth/capability.js';
import type { LocalChannel } from '../channels/local-channel.js';
import { channelKey } from '../engine/channel-store.js';
import type { NodeContext } from '../context.js';
import type { MetricsReader } from './metrics-source.js';

/** Channels a snapshot lists at most (the dashboard searches and ranks within them). */
export const MAX_LISTED_CHANNELS = 100;
/** Of those, the busiest whose presence members are counted (one engine read each). */
export const PRESENCE_COUNTED_CHANNELS = 25;
/** Share of `maxMessageSize` a snapshot may take. */
const SIZE_BUDGET = 0.9;

/** Every title of the error registry by code (the first name of a code wins). */
const ERROR_TITLES = new Map<string, string>();
for (const def of Object.values(Err))
  if (!ERROR_TITLES.has(String(def.code))) ERROR_TITLES.set(String(def.code), def.message);

/** Resolution (ms) of the event-loop delay sampler; each sample includes it, so it is taken off the mean. */
const LOOP_RESOLUTION = 10;

/** CPU and event-loop figures over the time between two snapshots. */
export class LoadSampler {
  private cpu = process.cpuUsage();
  private at = performance.now();
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION });

  constructor() {
    this.loop.enable();
  }

  sample(): Pick<DashboardNode, 'cpu' | 'rss' | 'heapUsed' | 'eventLoopDelay'> {
    const cpu = process.cpuUsage(this.cpu);
    const now = performance.now();
    const elapsedMicros = Math.max(1, (now - this.at) * 1000);
    this.cpu = process.cpuUsage();
    this.at = now;
    const delay = Number.isFinite(this.loop.mean) ? Math.max(0, this.loop.mean / 1e6 - LOOP_RESOLUTION) : 0;
    this.loop.reset();
    const memory = process.memoryUsage();
    return {
      cpu: (cpu.user + cpu.system) / elapsedMicros,
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      eventLoopDelay: delay,
    };
  }

  stop(): void {
    this.loop.disable();
  }
}

function channelRow(ctx: NodeContext, ch: LocalChannel): DashboardChannel {
  const o = ctx.channels.occupancy(ch.appId, ch.name);
  return {
    app: ch.appId,
    name: ch.name,
    connections: o?.connections ?? 0,
    subscribers: o?.subscribers ?? 0,
    publishers: o?.publishers ?? 0,
    presenceMembers: null,
    messagesIn: ch.itemsIn,
    messagesOut: ch.itemsOut,
  };
}

/** The busiest channels first: most deliveries, then most attachments, then by name. */
function byActivity(a: DashboardChannel, b: DashboardChannel): number {
  return b.messagesOut - a.messagesOut || b.connections - a.connections || (a.app + a.name < b.app + b.name ? -1 : 1);
}

/** This node's channels, the busiest `MAX_LISTED_CHANNELS`, with presence counted for the first few. */
async function channels(ctx: NodeContext): Promise<DashboardSnapshot['channels']> {
  const rows: DashboardChannel[] = [];
  for (const ch of ctx.channels.all()) if (ch.subscriberCount > 0) rows.push(channelRow(ctx, ch));
  rows.sort(byActivity);
  const listed = rows.slice(0, MAX_LISTED_CHANNELS);
  const counted = listed
    .filter((r) => (ctx.channels.occupancy(r.app, r.name)?.presenceSubscribers ?? 0) > 0)
    .slice(0, PRESENCE_COUNTED_CHANNELS);
  await Promise.all(
    counted.map(async (row) => {
      row.presenceMembers = (await ctx.engine.channels.members(channelKey(row.app, row.name))).length;
    }),
  );
  return { total: rows.length, listed };
}

function apps(ctx: NodeContext): DashboardApp[] {
  const connections = new Map<string, number>();
  for (const s of ctx.sessions.values()) connections.set(s.appId, (connections.get(s.appId) ?? 0) + 1);
  return [...ctx.apps.all()].map((app) => ({
    id: app.id,
    keys: app.keys.map((k) => ({
      name: k.name,
      capability: capabilityToJson(k.capability),
      revocableTokens: k.revocableTokens,
    })),
    connections: connections.get(app.id) ?? 0,
    tlsOnly: app.tlsOnly,
  }));
}

export interface SnapshotSource {
  readonly ctx: NodeContext;
  readonly metrics: MetricsReader;
  readonly load: LoadSampler;
  readonly startedAt: number;
}

/** Takes a snapshot of the node now, within `maxMessageSize`. */
export async function takeSnapshot(source: SnapshotSource): Promise<DashboardSnapshot> {
  const { ctx } = source;
  const metrics = source.metrics();
  const errorTitles: Record<string, string> = {};
  for (const code of Object.keys(metrics.errors)) errorTitles[code] = ERROR_TITLES.get(code) ?? 'Error';
  const snapshot: DashboardSnapshot = {
    version: DASHBOARD_VERSION,
    at: ctx.clock.now(),
    interval: ctx.options.adminPublishInterval,
    node: {
      id: ctx.options.serverId,
      startedAt: source.startedAt,
      engine: ctx.engine.shared ? 'redis' : 'memory',
      ...source.load.sample(),
    },
    metrics,
    errorTitles,
    channels: await channels(ctx),
    apps: apps(ctx),
  };
  fitInto(snapshot, Math.floor(ctx.options.maxMessageSize * SIZE_BUDGET));
  return snapshot;
}

/** Halves the channel list until the snapshot's JSON fits in `bytes` (the list goes first: the rest is small). */
function fitInto(snapshot: DashboardSnapshot, bytes: number): void {
  const listed = snapshot.channels.listed;
  while (listed.length > 0 && Buffer.byteLength(JSON.stringify(snapshot)) > bytes)
    listed.length = Math.floor(listed.length / 2);
}
