/**
 * `/metrics` in Prometheus text format: prom-client's registry and format, with collectors that
 * read one `Metrics.snapshot()` per scrape (so a scrape is consistent and the hot path never
 * touches prom-client), plus prom-client's default process metrics (CPU, memory, event loop lag,
 * handles, GC), collected once per process.
 */
import { collectDefaultMetrics, Registry, type Metric } from 'prom-client';
import type { HistogramSnapshot } from './histogram.js';
import { DISCONNECT_REASONS, type Metrics, type MetricsSnapshot } from './metrics.js';

type Labels = Record<string, string | number>;
interface Sample {
  value: number;
  labels?: Labels;
  metricName?: string;
}
type MetricType = 'counter' | 'gauge' | 'histogram';

interface Family {
  name: string;
  help: string;
  type: MetricType;
  samples(s: MetricsSnapshot): Sample[];
}

function histogram(name: string, h: HistogramSnapshot, labels: Labels = {}): Sample[] {
  const samples: Sample[] = h.buckets.map((le, i) => ({
    metricName: `${name}_bucket`,
    labels: { ...labels, le },
    value: h.cumulative[i]!,
  }));
  samples.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count });
  samples.push(
    { metricName: `${name}_sum`, labels, value: h.sum },
    { metricName: `${name}_count`, labels, value: h.count },
  );
  return samples;
}

function keyed(label: string, counts: Record<string, number>): Sample[] {
  return Object.entries(counts).map(([k, value]) => ({ labels: { [label]: k }, value }));
}

/** Every encke metric: name, help, type and how to read it from a snapshot (docs/deployment.md lists them). */
export const FAMILIES: readonly Family[] = [
  {
    name: 'encke_connections',
    help: 'Connections with a transport on this node, by transport and format',
    type: 'gauge',
    samples: (s) =>
      Object.entries(s.connections).flatMap(([transport, byFormat]) =>
        Object.entries(byFormat).map(([format, value]) => ({ labels: { transport, format }, value })),
      ),
  },
  {
    name: 'encke_connections_resumable',
    help: 'Connections held for a resume, without a transport',
    type: 'gauge',
    samples: (s) => [{ value: s.connectionsResumable }],
  },
  {
    name: 'encke_connects_total',
    help: 'Connection attempts, by result (failed: refused credentials or parameters)',
    type: 'counter',
    samples: (s) => keyed('result', s.connects),
  },
  {
    name: 'encke_resumes_total',
    help: 'Connection attempts that asked to resume or recover, by result',
    type: 'counter',
    samples: (s) => keyed('result', s.resumes),
  },
  {
    name: 'encke_disconnects_total',
    help: 'Connections ended on this node by reason (transport_lost: the transport went, the connection stays resumable)',
    type: 'counter',
    samples: (s) => DISCONNECT_REASONS.map((reason) => ({ labels: { reason }, value: s.disconnects[reason] })),
  },
  {
    name: 'encke_messages_in_total',
    help: 'Messages accepted for publishing, by source',
    type: 'counter',
    samples: (s) => keyed('source', s.messagesIn),
  },
  {
    name: 'encke_messages_out_total',
    help: 'Messages and presence messages sent to clients',
    type: 'counter',
    samples: (s) => [{ value: s.messagesOut }],
  },
  {
    name: 'encke_bytes_out_total',
    help: 'Bytes written to clients, by transport (web_socket, comet, sse: the SSE/streaming API, badge)',
    type: 'counter',
    samples: (s) => keyed('transport', s.bytesOut),
  },
  {
    name: 'encke_ack_latency_seconds',
    help: 'Realtime publish received to ACK or NACK sent',
    type: 'histogram',
    samples: (s) => histogram('encke_ack_latency_seconds', s.ackLatency),
  },
  {
    name: 'encke_delivery_latency_seconds',
    help: "Publish accepted (message timestamp) to delivery to this node's subscribers",
    type: 'histogram',
    samples: (s) => histogram('encke_delivery_latency_seconds', s.deliveryLatency),
  },
  {
    name: 'encke_queue_drops_total',
    help: 'Frames discarded with a transport dropped as a slow consumer, by transport',
    type: 'counter',
    samples: (s) => keyed('transport', s.queueDrops),
  },
  {
    name: 'encke_slow_consumer_disconnects_total',
    help: 'Transports dropped because the client read too slowly, by transport',
    type: 'counter',
    samples: (s) => keyed('transport', s.slowConsumerDisconnects),
  },
  {
    name: 'encke_errors_total',
    help: 'Errors sent to clients (HTTP answers and realtime frames), by Ably error code',
    type: 'counter',
    samples: (s) => keyed('code', s.errors),
  },
  {
    name: 'encke_auth_failures_total',
    help: 'Refused credentials, by Ably error code',
    type: 'counter',
    samples: (s) => keyed('code', s.authFailures),
  },
  {
    name: 'encke_limit_refusals_total',
    help: 'Requests refused by a resource limit, by Ably error code',
    type: 'counter',
    samples: (s) => keyed('code', s.limitRefusals),
  },
  {
    name: 'encke_faults_total',
    help: 'Exceptions caught by the last resort (each one a bug), by kind',
    type: 'counter',
    samples: (s) => keyed('kind', s.faults),
  },
  {
    name: 'encke_engine_operation_seconds',
    help: 'Engine (shared state) operation latency, by operation',
    type: 'histogram',
    samples: (s) =>
      Object.entries(s.engineOperations).flatMap(([op, h]) => histogram('encke_engine_operation_seconds', h, { op })),
  },
  {
    name: 'encke_engine_errors_total',
    help: 'Engine operations that failed, by operation',
    type: 'counter',
    samples: (s) => keyed('op', s.engineErrors),
  },
  {
    name: 'encke_redis_reconnects_total',
    help: 'Times the connection to Redis came back after a loss',
    type: 'counter',
    samples: (s) => [{ value: s.redisReconnects }],
  },
];

let processRegistry: Registry | undefined;

/** prom-client's process metrics, registered once per process however many nodes it runs. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export class PrometheusExporter {
  private readonly registry = new Registry();
  private current: MetricsSnapshot | undefined;

  constructor(private readonly metrics: Metrics) {
    for (const family of FAMILIES) {
      const collector = {
        name: family.name,
        help: family.help,
        type: family.type,
        get: () => ({
          name: family.name,
          help: family.help,
          type: family.type,
          aggregator: 'sum',
          values: family.samples(this.current ?? this.metrics.snapshot()),
        }),
        reset: () => undefined,
      };
      this.registry.registerMetric(collector as unknown as Metric);
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text: encke's metrics from one snapshot, then the process metrics. */
  async text(): Promise<string> {
    this.current = this.metrics.snapshot();
    try {
      return (await this.registry.metrics()) + (await processMetrics().metrics());
    } finally {
      this.current = undefined;
    }
  }
}
