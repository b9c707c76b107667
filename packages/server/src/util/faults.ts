/**
 * The last resort: what the server does with an exception nothing else handled, at each boundary
 * where one connection's work runs (a WebSocket frame, a tick's flush, a heartbeat tick) and with a
 * frame an encoder refuses. It logs at error level and counts, by kind; it never hides a fault: each
 * one is a bug, and every kind has a test that makes it happen. The counts are the hook for metrics
 * (`EnckeNode.faults`): a metrics exporter reads `counts` or sets `onFault`.
 */
import type { Logger } from './logger.js';

export type FaultKind =
  /** A frame no encoder could serialise: dropped for the subscribers of that format. */
  | 'encode'
  /** An exception while serving one connection: that connection is failed (50000). */
  | 'connection'
  /** An exception while a channel delivered a tick's events. */
  | 'channel'
  /** An exception in a periodic task (heartbeat tick). */
  | 'timer';

/** Resource bounds (options) whose refusals are counted. */
export type LimitName = 'maxConnections' | 'maxConnectionsPerApp' | 'maxChannels' | 'presenceMaxMembersTotal';

export class Faults {
  readonly counts: Record<FaultKind, number> = { encode: 0, connection: 0, channel: 0, timer: 0 };
  /** Refusals because a resource bound was reached, by option: not faults, but what an operator watches. */
  readonly limits: Record<LimitName, number> = { maxConnections: 0, maxConnectionsPerApp: 0, maxChannels: 0, presenceMaxMembersTotal: 0 };
  /** Called with every fault after it is logged and counted (a metrics exporter's hook). */
  onFault: ((kind: FaultKind) => void) | undefined = undefined;
  /** Called with every refusal at a resource bound (a metrics exporter's hook). */
  onLimit: ((name: LimitName) => void) | undefined = undefined;

  constructor(private readonly logger: Logger) {}

  report(kind: FaultKind, err: unknown, fields: Record<string, unknown>, msg: string): void {
    this.counts[kind]++;
    this.logger.error({ ...fields, fault: kind, err }, msg);
    this.onFault?.(kind);
  }

  /** A request was refused because `name` was reached (logged at warn: the operator may raise it). */
  limitReached(name: LimitName, fields: Record<string, unknown> = {}): void {
    this.limits[name]++;
    if (this.logger.isLevelEnabled('warn')) this.logger.warn({ ...fields, limit: name }, 'refused: resource limit reached');
    this.onLimit?.(name);
  }

  get total(): number {
    return this.counts.encode + this.counts.connection + this.counts.channel + this.counts.timer;
  }
}
