/**
 * The pure parts of the admin dashboard: its Cluster (rates from consecutive snapshots, restarts,
 * late snapshots, liveness, errors by code, faults, merged channels). The browser tests prove the
 * same things end to end at real speed; these pin the edges. The module is browser code
 * (packages/dashboard), bundled here by esbuild as the app's own build does, then imported. The
 * chat's pure parts are in web-app-logic.test.ts.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { DashboardChannel, DashboardSnapshot } from '@encke/protocol';
import { loadBrowserModule } from '../helpers/browser-module.js';

interface Rates {
  in: number;
  out: number;
}

interface ClusterModule {
  SILENT_AFTER_INTERVALS: number;
  FORGET_AFTER: number;
  RECENT_ERRORS: number;
  Cluster: new () => {
    accept(s: DashboardSnapshot, now: number): void;
    readonly heardFrom: boolean;
    hasRates(now: number): boolean;
    rates(now: number): Rates;
    connections(now: number): { byTransport: Map<string, Record<string, number>>; total: number; resumable: number };
    channels(now: number): {
      rows: (Omit<DashboardChannel, 'messagesIn' | 'messagesOut'> & { rates: Rates })[];
      total: number;
    };
    errors(now: number): { code: string; title: string; total: number; recent: number; lastSeen: number | undefined }[];
    faults(now: number): Record<string, number>;
    nodeRows(now: number): { id: string; liveness: string; connections: number }[];
  };
}

const INTERVAL = 1000;

/** A snapshot of `node` (started at `startedAt`) taken at `at`, with cumulative counters. */
function snapshot(
  node: string,
  startedAt: number,
  at: number,
  c: {
    in: number;
    out: number;
    ws?: number;
    errors?: Record<string, number>;
    faults?: Record<string, number>;
    channels?: DashboardChannel[];
  },
): DashboardSnapshot {
  return {
    version: 1,
    at,
    interval: INTERVAL,
    node: { id: node, startedAt, engine: 'redis', cpu: 0.1, rss: 1e8, heapUsed: 5e7, eventLoopDelay: 0.5 },
    metrics: {
      connections: { web_socket: { json: c.ws ?? 1, msgpack: 0 }, comet: { json: 0, msgpack: 0 } },
      resumable: 0,
      messagesIn: c.in,
      messagesOut: c.out,
      errors: c.errors ?? {},
      faults: c.faults ?? { encode: 0, connection: 0 },
    },
    errorTitles: Object.fromEntries(Object.keys(c.errors ?? {}).map((code) => [code, `title ${code}`])),
    channels: { total: c.channels?.length ?? 0, listed: c.channels ?? [] },
    apps: [],
  };
}

function channel(
  name: string,
  subscribers: number,
  messagesIn: number,
  messagesOut: number,
  presenceMembers: number | null = null,
): DashboardChannel {
  return {
    app: 'app',
    name,
    connections: subscribers,
    subscribers,
    publishers: subscribers,
    presenceMembers,
    messagesIn,
    messagesOut,
  };
}

describe('dashboard: the cluster it hears', () => {
  let m: ClusterModule;
  before(async () => {
    m = await loadBrowserModule<ClusterModule>('packages/dashboard/src/cluster.ts', {
      SILENT_AFTER_INTERVALS: 'number',
      FORGET_AFTER: 'number',
      RECENT_ERRORS: 'number',
      Cluster: 'function',
    });
  });

  it('rates come from two snapshots of a node (none from the first), summed over nodes with their connections', () => {
    const cluster = new m.Cluster();
    cluster.accept(snapshot('a', 0, 1000, { in: 100, out: 500, ws: 3 }), 10_000);
    assert.equal(cluster.hasRates(10_000), false);
    assert.deepEqual(cluster.rates(10_000), { in: 0, out: 0 });
    cluster.accept(snapshot('a', 0, 2000, { in: 110, out: 550, ws: 3 }), 11_000);
    cluster.accept(snapshot('b', 0, 1500, { in: 7, out: 7, ws: 2 }), 11_000);
    cluster.accept(snapshot('b', 0, 2000, { in: 9, out: 8, ws: 2 }), 11_500);
    assert.equal(cluster.hasRates(11_500), true);
    assert.deepEqual(cluster.rates(11_500), { in: 10 + 4, out: 50 + 2 });
    assert.equal(cluster.connections(11_500).total, 5);
    assert.deepEqual(cluster.connections(11_500).byTransport.get('web_socket'), { json: 5, msgpack: 0 });
  });

  it('a restarted node (new startedAt, counters from zero) gives no negative rate; a late or repeated snapshot is ignored', () => {
    const cluster = new m.Cluster();
    cluster.accept(snapshot('a', 0, 1000, { in: 100, out: 100 }), 1000);
    cluster.accept(snapshot('a', 0, 2000, { in: 120, out: 130 }), 2000);
    cluster.accept(snapshot('a', 0, 1500, { in: 110, out: 110 }), 2100); // late
    cluster.accept(snapshot('a', 0, 2000, { in: 120, out: 130 }), 2200); // repeated
    assert.deepEqual(cluster.rates(2200), { in: 20, out: 30 });
    cluster.accept(snapshot('a', 5000, 6000, { in: 3, out: 3 }), 6000); // restarted
    assert.deepEqual(cluster.rates(6000), { in: 0, out: 0 });
    assert.equal(cluster.hasRates(6000), false);
  });

  it('a node is live while snapshots come, silent after SILENT_AFTER_INTERVALS (out of the totals), forgotten after FORGET_AFTER', () => {
    const cluster = new m.Cluster();
    cluster.accept(snapshot('a', 0, 1000, { in: 0, out: 0, ws: 4 }), 1000);
    cluster.accept(snapshot('b', 0, 1000, { in: 0, out: 0, ws: 1 }), 1000);
    const silentAt = 1000 + INTERVAL * m.SILENT_AFTER_INTERVALS + 1;
    cluster.accept(snapshot('b', 0, silentAt, { in: 0, out: 0, ws: 1 }), silentAt);
    assert.deepEqual(
      cluster.nodeRows(silentAt).map((n) => [n.id, n.liveness]),
      [
        ['a', 'silent'],
        ['b', 'live'],
      ],
    );
    assert.equal(cluster.connections(silentAt).total, 1);
    assert.deepEqual(
      cluster.nodeRows(1000 + m.FORGET_AFTER + 1).map((n) => n.id),
      ['b'],
    );
  });

  it('errors by code: totals over nodes; "recent" is what grew while listening, for RECENT_ERRORS', () => {
    const cluster = new m.Cluster();
    cluster.accept(snapshot('a', 0, 1000, { in: 0, out: 0, errors: { '40400': 5 } }), 1000);
    cluster.accept(snapshot('b', 0, 1000, { in: 0, out: 0, errors: { '40101': 1 } }), 1000);
    assert.deepEqual(
      cluster.errors(1000).map((e) => [e.code, e.recent, e.total]),
      [
        ['40400', 0, 5],
        ['40101', 0, 1],
      ],
    );
    cluster.accept(snapshot('a', 0, 2000, { in: 0, out: 0, errors: { '40400': 5, '40012': 2 } }), 2000);
    cluster.accept(snapshot('b', 0, 2000, { in: 0, out: 0, errors: { '40101': 4 } }), 2000);
    const rows = cluster.errors(2500);
    assert.deepEqual(
      rows.map((e) => [e.code, e.recent, e.total]),
      [
        ['40101', 3, 4],
        ['40012', 2, 2],
        ['40400', 0, 5],
      ],
    );
    assert.equal(rows[1]!.title, 'title 40012');
    assert.equal(rows[1]!.lastSeen, 2000);
    const later = 2000 + m.RECENT_ERRORS + 1;
    cluster.accept(snapshot('a', 0, later, { in: 0, out: 0, errors: { '40400': 5, '40012': 2 } }), later);
    // Node b has been silent for FORGET_AFTER: its codes go with it.
    assert.deepEqual(
      cluster.errors(later).map((e) => [e.code, e.recent, e.total]),
      [
        ['40400', 0, 5],
        ['40012', 0, 2],
      ],
    );
  });

  it('faults by kind are summed over the nodes', () => {
    const cluster = new m.Cluster();
    cluster.accept(snapshot('a', 0, 1000, { in: 0, out: 0, faults: { encode: 1, connection: 0 } }), 1000);
    cluster.accept(snapshot('b', 0, 1000, { in: 0, out: 0, faults: { encode: 2, connection: 3 } }), 1000);
    assert.deepEqual(cluster.faults(1000), { encode: 3, connection: 3 });
  });

  it("channels of several nodes merge: attachments summed, presence the channel's, rate in as published once, out summed", () => {
    const cluster = new m.Cluster();
    cluster.accept(snapshot('a', 0, 1000, { in: 0, out: 0, channels: [channel('room', 2, 10, 20, 3)] }), 1000);
    cluster.accept(
      snapshot('b', 0, 1000, { in: 0, out: 0, channels: [channel('room', 1, 10, 10, 3), channel('quiet', 1, 0, 0)] }),
      1000,
    );
    cluster.accept(snapshot('a', 0, 2000, { in: 0, out: 0, channels: [channel('room', 2, 15, 30, 3)] }), 2000);
    cluster.accept(
      snapshot('b', 0, 2000, { in: 0, out: 0, channels: [channel('room', 1, 15, 15, 3), channel('quiet', 1, 0, 0)] }),
      2000,
    );
    const { rows, total } = cluster.channels(2000);
    assert.equal(total, 2);
    assert.deepEqual(
      rows.map((r) => [r.name, r.subscribers, r.presenceMembers, r.rates.in, r.rates.out]),
      [
        ['room', 3, 3, 5, 15],
        ['quiet', 1, null, 0, 0],
      ],
    );
  });
});
