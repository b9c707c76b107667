/**
 * Publishing messages to a channel, the same for realtime MESSAGE and REST publishes (one
 * ChannelPublisher per node): channel name and capability checks, size limit, clientId rules, the
 * fields every stored message carries (id, clientId, connectionId, timestamp, action), idempotency
 * by message id, the namespace's log retention, and the stats count. Callers have validated the
 * messages (`parseMessage`).
 */
import { AblyError, Err, MessageAction, dataSize, isMutationAction, type Message } from '@encke/protocol';
import { namespaceOf, type Namespace } from '../apps/app.js';
import { checkItemClientId, type AuthContext } from '../auth/authenticate.js';
import { allows } from '../auth/capability.js';
import {
  channelKey,
  type ChannelEventInput,
  type LogRetention,
  type PublishOptions,
  type PublishOutcome,
} from '../engine/channel-store.js';
import type { Engine } from '../engine/engine.js';
import type { ResolvedOptions } from '../options.js';
import type { StatsCounters, StatsTransport } from '../stats/counters.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Clock } from '../util/clock.js';
import type { Faults } from '../util/faults.js';
import { flatString } from '../util/flat-string.js';
import { afterFanOut } from '../util/scheduler.js';
import { validateChannelName } from './names.js';

/** Who publishes, and how messages without their own id are named. */
export interface PublishSource {
  readonly auth: AuthContext;
  /** The clientId messages default to and are checked against (`*` wildcard, undefined anonymous). */
  readonly clientId: string | undefined;
  /** The realtime connection the messages come from, or are published on behalf of. */
  readonly connectionId: string | undefined;
  /** Messages without an id get `<idPrefix>:<index>`; also the event id. */
  readonly idPrefix: string;
  /** The realtime publish's msgSerial: a shared engine records it with the append. */
  readonly msgSerial?: number;
  readonly transport: StatsTransport;
}

/** Size of a message as the SDKs count it (TO3l8): name, data, clientId and extras. */
export function messageSize(msg: Message): number {
  return dataSize(msg.data) + sizeBesideData(msg);
}

/** The bytes of a message's name, clientId and extras (its size without its data). */
function sizeBesideData(msg: Message): number {
  let size = 0;
  if (msg.name !== undefined) size += Buffer.byteLength(msg.name, 'utf8');
  if (msg.clientId !== undefined) size += Buffer.byteLength(msg.clientId, 'utf8');
  if (msg.extras !== undefined) size += Buffer.byteLength(JSON.stringify(msg.extras), 'utf8');
  return size;
}

/**
 * Refuses messages of more than `max` bytes in all (40009). Returns the bytes of their data, which
 * the stats count once the messages are published (counted here once instead of twice a publish).
 */
export function checkMessagesSize(messages: readonly Message[], max: number): number {
  let total = 0;
  let data = 0;
  // An index loop: this runs once per publish, mostly in V8's baseline tier, where each iterator step allocates.
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const bytes = dataSize(m.data);
    data += bytes;
    total += bytes + sizeBesideData(m);
  }
  if (total > max)
    throw new AblyError(Err.maxMessageSizeExceeded, `Message size ${total} exceeds the maximum of ${max} bytes`);
  return data;
}

/**
 * The engine options of most publishes (no message with its own id, the engine's retention, no
 * shared connection record): one frozen object instead of one per publish (bench S7: a publish's garbage).
 */
const PLAIN_OPTIONS: PublishOptions = Object.freeze({ idempotencyWindow: 0, retention: undefined });

export class ChannelPublisher {
  /** The retention of persisted and mutable channels, made on first use (the options do not change). */
  private persisted: LogRetention | undefined;
  /**
   * The credentials and channel `check` last let through. The same credentials publishing on the
   * same channel again (a connection's publishes) are not checked again: an AuthContext and the
   * capability in it never change (a reauth brings a new one), and the name's checks depend on
   * the name and the options only. Bench S7: ~4k instructions a publish in V8's baseline tier
   * (the capability's Map iterated), before the fan-out's first write.
   */
  private checkedAuth: AuthContext | null = null;
  private checkedName = '';
  /**
   * Realtime publishes the engine answered at once, not yet counted in the stats (`countLater`):
   * counted once the tick's fan-out is written, added up while they are of one app and transport.
   */
  private laterApp = '';
  private laterTransport: StatsTransport = 'realtime';
  private laterCount = 0;
  private laterBytes = 0;
  private laterQueued = false;
  private readonly countLaterBound = (): void => {
    this.laterQueued = false;
    this.countPending();
  };

  constructor(
    private readonly options: ResolvedOptions,
    private readonly clock: Clock,
    private readonly engine: Engine,
    private readonly stats: StatsCounters,
    private readonly metrics: Metrics,
    private readonly faults?: Faults,
  ) {}

  /** Checks that `auth` may publish on channel `name` (40010, 40160). */
  check(auth: AuthContext, name: string): void {
    if (auth === this.checkedAuth && name === this.checkedName) return;
    validateChannelName(name, this.options.maxChannelNameLength);
    if (!allows(auth.capability, name, 'publish')) {
      throw new AblyError(Err.capabilityDenied, `Permission denied: publish not permitted on channel "${name}"`);
    }
    this.checkedAuth = auth;
    this.checkedName = name;
  }

  /** Publishes `messages` (mutated into their stored form) on channel `name`; one serial per message. */
  async publish(source: PublishSource, name: string, messages: Message[]): Promise<PublishOutcome> {
    return this.publishNow(source, name, messages, false);
  }

  /**
   * As `publish`, answered as the engine answers: at once when it does (the memory engine; a refusal
   * is then thrown), else a promise. A realtime publish takes this path so that, with the memory
   * engine, its ACK needs no promise at all (bench S7: a publish's garbage drives the scavenges that
   * land in a fan-out's tail). With `countLater` (the realtime publish), the stats count of a
   * publish answered at once is made once the tick's fan-out is written (`countLater`): nothing reads
   * it before then, and it ran between the publish's read and its first subscriber's write.
   */
  publishNow(
    source: PublishSource,
    name: string,
    messages: Message[],
    countLater = true,
  ): PublishOutcome | Promise<PublishOutcome> {
    this.check(source.auth, name);
    if (messages.length === 0) throw new AblyError(Err.badRequest, 'A publish needs at least one message');
    const dataBytes = checkMessagesSize(messages, this.options.maxMessageSize);
    const now = this.clock.now();
    const ns = namespaceOf(source.auth.app, name);
    const withIds = toStoredForm(source, messages, now, ns?.mutableMessages === true);
    const appId = source.auth.app.id;
    const transport = source.transport;
    let answer: PublishOutcome | Promise<PublishOutcome>;
    try {
      answer = this.engine.channels.publish(
        channelKey(appId, name),
        messageEvent(source, messages, now),
        this.publishOptions(source, withIds, ns),
      );
    } catch (err) {
      this.refused(err, appId);
    }
    if (answer instanceof Promise)
      return answer.then(
        (outcome) => this.count(outcome, appId, transport, messages, dataBytes),
        (err: unknown) => this.refused(err, appId),
      );
    if (countLater && answer.event?.messages === messages) {
      this.countLater(appId, transport, messages.length, dataBytes);
      return answer;
    }
    return this.count(answer, appId, transport, messages, dataBytes);
  }

  /**
   * Counts `count` messages of `bytes` data published now on `appId` once the tick's fan-out is
   * written (util/scheduler.ts `afterFanOut`), with the tick's other publishes of the same app and
   * transport; another app's or transport's first counts those before it. What it holds is counted
   * in the same tick: at most one app's and transport's running total waits.
   */
  private countLater(appId: string, transport: StatsTransport, count: number, bytes: number): void {
    if (this.laterCount > 0 && (appId !== this.laterApp || transport !== this.laterTransport)) this.countPending();
    this.laterApp = appId;
    this.laterTransport = transport;
    this.laterCount += count;
    this.laterBytes += bytes;
    if (this.laterQueued) return;
    this.laterQueued = true;
    afterFanOut(this.countLaterBound);
  }

  /** Counts what `countLater` holds (stats and metrics). */
  private countPending(): void {
    const count = this.laterCount;
    if (count === 0) return;
    const bytes = this.laterBytes;
    this.laterCount = this.laterBytes = 0;
    this.stats.countItems(this.laterApp, 'inbound', this.laterTransport, 'messages', count, bytes);
    this.metrics.published(this.laterTransport, count);
  }

  /** What the engine is told besides the event: idempotency, retention, the publishing connection. */
  private publishOptions(source: PublishSource, withIds: boolean, ns: Namespace | undefined): PublishOptions {
    const retention = this.retentionFor(ns);
    const { msgSerial, connectionId } = source;
    const recorded = msgSerial !== undefined && connectionId !== undefined && this.engine.connections !== undefined;
    if (!withIds && retention === undefined && !recorded) return PLAIN_OPTIONS;
    const options: PublishOptions = { idempotencyWindow: withIds ? this.options.idempotencyWindow : 0, retention };
    if (recorded) options.connection = { id: connectionId, msgSerial };
    return options;
  }

  /**
   * Counts what was published (stats and metrics); nothing for a publish whose messages were all
   * duplicates. `dataBytes` is what the size check counted of `published`: the stored event's
   * messages are those (the memory engine keeps the array), else (some duplicates; an engine that
   * stores a copy) they are counted again.
   */
  private count(
    outcome: PublishOutcome,
    appId: string,
    transport: StatsTransport,
    published: readonly Message[],
    dataBytes: number,
  ): PublishOutcome {
    const event = outcome.event;
    if (event) {
      const stored = event.messages ?? [];
      if (stored === published)
        this.stats.countItems(appId, 'inbound', transport, 'messages', stored.length, dataBytes);
      else this.stats.countMessages(appId, 'inbound', transport, 'messages', stored);
      this.metrics.published(transport, stored.length);
    }
    return outcome;
  }

  /** The engine refused a new channel at its bound (the memory engine's maxChannels): counted as the node's own refusals are. */
  private refused(err: unknown, appId: string): never {
    if (err instanceof AblyError && err.code === Err.channelLimit.code)
      this.faults?.limitReached('maxChannels', { appId });
    throw err;
  }

  /**
   * The log retention of a channel in namespace `ns`: longer when it is `persisted`, or has
   * `mutableMessages` (Ably persists messages that can be changed); the engine's default otherwise.
   */
  private retentionFor(ns: Namespace | undefined): LogRetention | undefined {
    return ns?.persisted || ns?.mutableMessages ? (this.persisted ??= persistedRetention(this.options)) : undefined;
  }
}

/** The log retention of persisted and mutable channels. */
export function persistedRetention(options: ResolvedOptions): LogRetention {
  return { maxAge: options.persistedHistoryMaxAge, maxCount: options.persistedHistoryMaxCount };
}

/** The engine's event for a publish of `messages`: named by the source's id prefix, with its connection if any. */
function messageEvent(source: PublishSource, messages: Message[], now: number): ChannelEventInput {
  const id = source.idPrefix;
  const connectionId = source.connectionId;
  return connectionId !== undefined
    ? { kind: 'message', id, timestamp: now, messages, connectionId }
    : { kind: 'message', id, timestamp: now, messages };
}

/** Refuses a message action other than create in a publish of new messages. */
function refuseAction(action: number, mutable: boolean): never {
  if (!mutable && isMutationAction(action)) {
    throw new AblyError(
      Err.mutableMessagesDisabled,
      'Message annotations, updates, deletes and appends are not enabled on this channel (its namespace needs mutableMessages)',
    );
  }
  throw new AblyError(
    Err.invalidParameterValue,
    isMutationAction(action)
      ? 'An update, delete or append must be published on its own'
      : `Message action ${action} cannot be published`,
  );
}

/** Fills in what every stored message carries; true when some message has its own id (idempotent publish). */
function toStoredForm(source: PublishSource, messages: Message[], now: number, mutable: boolean): boolean {
  let withIds = false;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.action !== undefined && m.action !== MessageAction.CREATE) refuseAction(m.action, mutable);
    // The serial and version of a new message are the server's to give.
    if (m.serial !== undefined) delete m.serial;
    if (m.version !== undefined) delete m.version;
    if (m.id !== undefined) withIds = true;
    else m.id = flatString([source.idPrefix, ':', i]);
    const clientId = checkItemClientId(source.auth, source.clientId, m.clientId);
    if (clientId !== undefined) m.clientId = clientId;
    if (source.connectionId !== undefined) m.connectionId = source.connectionId;
    else delete m.connectionId;
    delete m.connectionKey;
    m.timestamp ??= now;
    m.action = MessageAction.CREATE;
  }
  return withIds;
}
