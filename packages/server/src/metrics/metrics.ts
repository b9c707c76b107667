/**
 * The node's operational metrics, one object the whole server reports into (`ctx.metrics`). Every
 * count is a plain number field, bumped on the hot path without labels or lookups; histograms are
 * fixed-bucket arrays. `/metrics` (Prometheus text, prometheus.ts) and `snapshot()` (typed, for
 * in-process readers such as an admin dashboard) read the same fields, so they always agree.
 * Few, fixed, low-cardinality names: never labelled by channel, client or connection. The names
 * and labels are listed in docs/deployment.md ("Metrics").
 */
import { Action, type ProtocolMessage } from '@encke/protocol';
import { Histogram, type HistogramSnapshot } from './histogram.js';

/**
 * Where bytes go out: the Ably protocol over WebSocket or comet (every comet envelope: streamed,
 * polled, SSE, forever-iframe, multipart), the SSE/raw streaming API (`sse`), occupancy badges.
 */
export type MetricsTransport = 'web_socket' | 'comet' | 'sse' | 'badge';
export type MetricsFormat = 'json' | 'msgpack';
export type MessageSource = 'realtime' | 'rest';
/** Why a connection ended on this node, or `transport_lost` when only its transport went (it stays resumable). */
export type DisconnectReason = 'closed' | 'failed' | 'expired' | 'shutdown' | 'moved' | 'transport_lost';

export const DISCONNECT_REASONS: readonly DisconnectReason[] = [
  'closed',
  'failed',
  'expired',
  'shutdown',
  'moved',
  'transport_lost',
];
/** Most distinct keys a keyed count (error codes, engine operations) holds; further keys count as `other`. */
export const MAX_KEYS = 64;
export const OTHER = 'other';

export type PerTransport = Record<MetricsTransport, number>;
/** Connections by transport kind then format: always `web_socket` and `comet` with `json` and `msgpack`, plus any other kind a transport reports. */
export type ConnectionCounts = Record<string, Record<string, number>>;

export interface MetricsSnapshot {
  /** Connections with a transport, by transport and format. */
  connections: ConnectionCounts;
  /** Connections held for a resume, without a transport. */
  connectionsResumable: number;
  connects: { ok: number; failed: number };
  resumes: { ok: number; failed: number };
  disconnects: Record<DisconnectReason, number>;
  /** Messages accepted for publishing (each message of a ProtocolMessage or REST body). */
  messagesIn: Record<MessageSource, number>;
  /** Messages and presence messages queued to clients. */
  messagesOut: number;
  /** Bytes written to clients (frames and comet bodies). */
  bytesOut: PerTransport;
  /** Realtime publish received → ACK or NACK sent. */
  ackLatency: HistogramSnapshot;
  /** Publish accepted by the engine (message timestamp) → delivered to this node's subscribers. */
  deliveryLatency: HistogramSnapshot;
  /** Frames discarded with a transport dropped as a slow consumer. */
  queueDrops: PerTransport;
  slowConsumerDisconnects: PerTransport;
  /** Every error sent to a client (HTTP error answers; realtime ERROR, NACK and DISCONNECTED/DETACHED/ATTACHED with an error), by Ably code. */
  errors: Record<string, number>;
  /** Refused credentials (connect, REST), by Ably error code. */
  authFailures: Record<string, number>;
  /** Requests refused by a resource limit, by Ably error code. */
  limitRefusals: Record<string, number>;
  /** Last-resort faults (util/faults.ts), by kind: each one a bug. */
  faults: Record<string, number>;
  /** Engine (shared state) operation latency and failures, by operation. */
  engineOperations: Record<string, HistogramSnapshot>;
  engineErrors: Record<string, number>;
  /** Times the node's connection to Redis came back after a loss. */
  redisReconnects: number;
}

function perTransport(): PerTransport {
  return { web_socket: 0, comet: 0, sse: 0, badge: 0 };
}

/** Adds `n` to `key` of a bounded keyed count. */
function bump(map: Map<string, number>, key: string, n = 1): void {
  const k = map.has(key) || map.size < MAX_KEYS ? key : OTHER;
  map.set(k, (map.get(k) ?? 0) + n);
}

/** What a connection count starts from (every label pair /metrics always shows). */
export function emptyConnectionCounts(): { connections: ConnectionCounts; resumable: number } {
  return { connections: { web_socket: { json: 0, msgpack: 0 }, comet: { json: 0, msgpack: 0 } }, resumable: 0 };
}

/** The kinds of util/faults.ts, always shown (0 included); a kind added there shows up by itself. */
const FAULT_KINDS = ['encode', 'connection', 'channel', 'timer'];

export class Metrics {
  private readonly connects = { ok: 0, failed: 0 };
  private readonly resumes = { ok: 0, failed: 0 };
  private readonly disconnects = Object.fromEntries(DISCONNECT_REASONS.map((r) => [r, 0])) as Record<
    DisconnectReason,
    number
  >;
  private readonly messagesIn: Record<MessageSource, number> = { realtime: 0, rest: 0 };
  private messagesOut = 0;
  private readonly bytesOut = perTransport();
  private readonly queueDrops = perTransport();
  private readonly slowConsumers = perTransport();
  private readonly authFailures = new Map<string, number>();
  private readonly limitRefusals = new Map<string, number>();
  private readonly faults = new Map<string, number>(FAULT_KINDS.map((k) => [k, 0]));
  private readonly engineOps = new Map<string, Histogram>();
  private readonly engineErrors = new Map<string, number>();
  private redisReconnects = 0;
  readonly ackLatency = new Histogram();
  readonly deliveryLatency = new Histogram();
  private readonly errors = new Map<string, number>();
  private countConnections: () => { connections: ConnectionCounts; resumable: number } = emptyConnectionCounts;

  /** The node tells how to count its connections (read at scrape time, not kept up to date). */
  setConnectionCounter(count: () => { connections: ConnectionCounts; resumable: number }): void {
    this.countConnections = count;
  }

  connected(resume: 'none' | 'ok' | 'failed'): void {
    this.connects.ok++;
    if (resume !== 'none') this.resumes[resume]++;
  }

  connectFailed(): void {
    this.connects.failed++;
  }

  disconnected(reason: DisconnectReason): void {
    this.disconnects[reason]++;
  }

  published(source: MessageSource, count: number): void {
    this.messagesIn[source] += count;
  }

  delivered(count: number): void {
    this.messagesOut += count;
  }

  /** A frame sent to one client (outside a channel's fan-out, counted with `delivered`): its items or its error. */
  sent(pm: ProtocolMessage): void {
    if (pm.action === Action.MESSAGE || pm.action === Action.PRESENCE)
      this.messagesOut += (pm.messages ?? pm.presence)?.length ?? 0;
    else if (pm.error) this.errorSent(pm.error.code);
  }

  wrote(transport: MetricsTransport, bytes: number): void {
    // A named store per delivering transport: one keyed store seeing two keys (WebSocket and comet
    // deliveries on one node) turns megamorphic, ~240 instructions a delivery (bench/README, cstream).
    const out = this.bytesOut;
    if (transport === 'web_socket') out.web_socket += bytes;
    else if (transport === 'comet') out.comet += bytes;
    else out[transport] += bytes;
  }

  slowConsumer(transport: MetricsTransport, droppedFrames: number): void {
    this.slowConsumers[transport]++;
    this.queueDrops[transport] += droppedFrames;
  }

  /** An error went to a client, by its Ably code. */
  errorSent(code: number): void {
    bump(this.errors, String(code));
  }

  authFailed(code: number): void {
    bump(this.authFailures, String(code));
  }

  /** A request refused by a resource limit (issue 12 reports here), by its Ably error code. */
  limitRefused(code: number): void {
    bump(this.limitRefusals, String(code));
  }

  /** A last-resort fault (util/faults.ts reports here, as the node's FaultSink). */
  faulted(kind: string): void {
    bump(this.faults, kind);
  }

  engineOperation(op: string, seconds: number, failed: boolean): void {
    let h = this.engineOps.get(op);
    if (!h) {
      const key = this.engineOps.size < MAX_KEYS ? op : OTHER;
      h = this.engineOps.get(key) ?? new Histogram();
      this.engineOps.set(key, h);
    }
    h.observe(seconds);
    if (failed) bump(this.engineErrors, op);
  }

  redisReconnected(): void {
    this.redisReconnects++;
  }

  /** Every number, as /metrics reports it. */
  snapshot(): MetricsSnapshot {
    const { connections, resumable } = this.countConnections();
    return {
      connections,
      connectionsResumable: resumable,
      errors: Object.fromEntries(this.errors),
      connects: { ...this.connects },
      resumes: { ...this.resumes },
      disconnects: { ...this.disconnects },
      messagesIn: { ...this.messagesIn },
      messagesOut: this.messagesOut,
      bytesOut: { ...this.bytesOut },
      ackLatency: this.ackLatency.snapshot(),
      deliveryLatency: this.deliveryLatency.snapshot(),
      queueDrops: { ...this.queueDrops },
      slowConsumerDisconnects: { ...this.slowConsumers },
      authFailures: Object.fromEntries(this.authFailures),
      limitRefusals: Object.fromEntries(this.limitRefusals),
      faults: Object.fromEntries(this.faults),
      engineOperations: Object.fromEntries([...this.engineOps].map(([op, h]) => [op, h.snapshot()])),
      engineErrors: Object.fromEntries(this.engineErrors),
      redisReconnects: this.redisReconnects,
    };
  }
}

/** Seconds since `start` (a `performance.now()` reading). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
