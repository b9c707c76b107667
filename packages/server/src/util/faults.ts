/**
 * The last resort: what the server does with an exception nothing else handled, at each boundary
 * where one connection's work runs (a WebSocket frame, a tick's flush, a heartbeat tick) and with a
 * frame an encoder refuses. It logs at error level and counts, by kind; it never hides a fault: each
 * one is a bug, and every kind has a test that makes it happen. The counts are readable as
 * `EnckeNode.faults`; the node's metrics count them too (its `FaultSink`: `encke_faults_total{kind}`,
 * `encke_limit_refusals_total{code}`), and `onFault`/`onLimit` remain free for anyone else.
 */
import { Err } from '@encke/protocol';
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

/**
 * Resource bounds (options) whose refusals are counted. `presenceMaxMembers` counts every presence
 * enter refused with 91003: past the channel's `presenceMaxMembers` or the node's
 * `presenceMaxMembersTotal` (memory engine).
 */
export type LimitName =
  | 'maxConnections'
  | 'maxConnectionsPerApp'
  | 'maxChannels'
  | 'maxChannelsPerConnection'
  | 'presenceMaxMembers'
  | 'maxInboundQueue';

/** The Ably error code each refusal is answered with (what `encke_limit_refusals_total` is labelled by). */
export const LIMIT_CODES: Readonly<Record<LimitName, number>> = {
  maxConnections: Err.overloaded.code,
  maxConnectionsPerApp: Err.connectionLimit.code,
  maxChannels: Err.channelLimit.code,
  maxChannelsPerConnection: Err.tooManyChannels.code,
  presenceMaxMembers: Err.presenceMemberLimit.code,
  maxInboundQueue: Err.rateLimited.code,
};

/** Where faults and refusals are counted besides `counts` and `limits` (the node's metrics). */
export interface FaultSink {
  faulted(kind: FaultKind): void;
  limitRefused(code: number): void;
}

export class Faults {
  readonly counts: Record<FaultKind, number> = { encode: 0, connection: 0, channel: 0, timer: 0 };
  /** Refusals because a resource bound was reached, by option: not faults, but what an operator watches. */
  readonly limits: Record<LimitName, number> = {
    maxConnections: 0,
    maxConnectionsPerApp: 0,
    maxChannels: 0,
    maxChannelsPerConnection: 0,
    presenceMaxMembers: 0,
    maxInboundQueue: 0,
  };
  /** Called with every fault after it is logged and counted (a metrics exporter's hook). */
  onFault: ((kind: FaultKind) => void) | undefined = undefined;
  /** Called with every refusal at a resource bound (a metrics exporter's hook). */
  onLimit: ((name: LimitName) => void) | undefined = undefined;

  constructor(
    private readonly logger: Logger,
    private readonly sink?: FaultSink,
  ) {}

  report(kind: FaultKind, err: unknown, fields: Record<string, unknown>, msg: string): void {
    this.counts[kind]++;
    this.logger.error({ ...fields, fault: kind, err }, msg);
    this.sink?.faulted(kind);
    this.onFault?.(kind);
  }

  /** A request was refused because `name` was reached (logged at warn: the operator may raise it). */
  limitReached(name: LimitName, fields: Record<string, unknown> = {}): void {
    this.limits[name]++;
    if (this.logger.isLevelEnabled('warn'))
      this.logger.warn({ ...fields, limit: name }, 'refused: resource limit reached');
    this.sink?.limitRefused(LIMIT_CODES[name]);
    this.onLimit?.(name);
  }

  get total(): number {
    return this.counts.encode + this.counts.connection + this.counts.channel + this.counts.timer;
  }
}
