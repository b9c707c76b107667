/** This node's connections by transport and format, counted when /metrics is read (never kept up to date on the hot path). */
import { emptyConnectionCounts, type ConnectionCounts } from '../metrics/metrics.js';
import type { SessionHandle } from './handle.js';

export function countConnections(sessions: Iterable<SessionHandle>): {
  connections: ConnectionCounts;
  resumable: number;
} {
  const counts = emptyConnectionCounts();
  for (const session of sessions) {
    const t = session.transport;
    if (t) {
      const byFormat = (counts.connections[t.kind] ??= {});
      byFormat[t.format] = (byFormat[t.format] ?? 0) + 1;
    } else if (!session.closed) counts.resumable++;
  }
  return counts;
}
