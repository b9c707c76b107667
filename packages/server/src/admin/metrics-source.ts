/**
 * The numbers the dashboard shares with `/metrics`, read in this one place from the node's metrics
 * registry (`ctx.metrics.snapshot()`, the object the Prometheus exposition reads too), so that the
 * dashboard and `/metrics` always show the same figures.
 */
import type { DashboardMetrics } from '@encke/protocol';
import type { NodeContext } from '../context.js';

export type MetricsReader = () => DashboardMetrics;

export function metricsReader(ctx: NodeContext): MetricsReader {
  return () => {
    const m = ctx.metrics.snapshot();
    return {
      connections: m.connections,
      resumable: m.connectionsResumable,
      messagesIn: m.messagesIn.realtime + m.messagesIn.rest,
      messagesOut: m.messagesOut,
      errors: m.errors,
    };
  };
}
