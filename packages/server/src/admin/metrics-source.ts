/**
 * The numbers the dashboard shares with `/metrics`, read in this one place, so that both show the
 * same figures. Until the node's metrics registry (issue 18, `ctx.metrics.snapshot()`) is on this
 * branch, they are counted from the node's own state: connections by transport and format from
 * the sessions, messages from the local channels' counters; error counts come with the registry.
 */
import type { DashboardMetrics } from '@encke/protocol';
import type { NodeContext } from '../context.js';

export type MetricsReader = () => DashboardMetrics;

export function metricsReader(ctx: NodeContext): MetricsReader {
  return () => {
    const connections: Record<string, Record<string, number>> = {};
    let resumable = 0;
    for (const session of ctx.sessions.values()) {
      const t = session.transport;
      if (!t) {
        if (!session.closed) resumable++;
        continue;
      }
      const byFormat = (connections[t.kind] ??= {});
      byFormat[t.format] = (byFormat[t.format] ?? 0) + 1;
    }
    let messagesIn = 0;
    let messagesOut = 0;
    for (const ch of ctx.channels.all()) {
      messagesIn += ch.itemsIn;
      messagesOut += ch.itemsOut;
    }
    return { connections, resumable, messagesIn, messagesOut, errors: {} };
  };
}
