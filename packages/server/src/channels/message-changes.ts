/**
 * Changes to published messages, the same for realtime and REST (one MessageChanges per node):
 * updates, deletes and appends (Ably docs, messages/updates-deletes) and annotations with the
 * summaries they lead to (messages/annotations). Both need the channel's namespace to allow them
 * (`mutableMessages`, else 93002), read the message, compute its new form and have the engine
 * append the change only if the message is still as read (engine/message-chain.ts), reading again
 * when another change got there first.
 *
 * Capabilities: `message-update-any` / `message-delete-any`, or the `-own` forms for messages whose
 * clientId is the changer's (an unidentified client holding only an `-own` form: 40166); an append
 * is an update. Annotations need `annotation-publish`.
 */
import {
  AblyError,
  Err,
  MessageAction,
  isMutationAction,
  type Annotation,
  type Message,
  type MessageVersion,
} from '@encke/protocol';
import { applyAnnotation, type Summary } from '../annotations/summary.js';
import { namespaceOf } from '../apps/app.js';
import { checkItemClientId, type AuthContext } from '../auth/authenticate.js';
import { allows, type Operation } from '../auth/capability.js';
import {
  channelKey,
  type ChannelEvent,
  type ChannelEventInput,
  type ChannelKey,
  type LogRetention,
  type StoredMessage,
} from '../engine/channel-store.js';
import type { Engine } from '../engine/engine.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ResolvedOptions } from '../options.js';
import type { StatsCounters } from '../stats/counters.js';
import type { Clock } from '../util/clock.js';
import { mergeChange, type MergedChange } from './message-merge.js';
import { validateChannelName } from './names.js';
import { messageSize, type PublishSource } from './publisher.js';

/** Reads and retries of one change when others change the same message meanwhile. */
const CHANGE_ATTEMPTS = 20;

/** Bytes of an annotation as the message size limit counts them. */
function annotationSize(a: Annotation): number {
  return (
    messageSize({ name: a.name, data: a.data, clientId: a.clientId, extras: a.extras }) +
    Buffer.byteLength(a.type ?? '', 'utf8')
  );
}

function notFound(serial: string): AblyError {
  return new AblyError(Err.notFound, `No message with serial ${JSON.stringify(serial.slice(0, 80))} on this channel`);
}

/** The capability operations a change needs: on anyone's messages, or on the client's own. */
interface ChangeOperations {
  anyone: Operation;
  own: Operation;
  verb: string;
}

/** The capability operations an update (or append) and a delete need. */
function operationsFor(action: number): ChangeOperations {
  return action === MessageAction.DELETE
    ? { anyone: 'message-delete-any', own: 'message-delete-own', verb: 'delete' }
    : {
        anyone: 'message-update-any',
        own: 'message-update-own',
        verb: action === MessageAction.APPEND ? 'append to' : 'update',
      };
}

export class MessageChanges {
  constructor(
    private readonly options: ResolvedOptions,
    private readonly clock: Clock,
    private readonly engine: Engine,
    private readonly stats: StatsCounters,
    private readonly metrics: Metrics,
    /** The log retention of a channel with mutable messages (the persisted one, as Ably keeps them). */
    private readonly retention: LogRetention,
  ) {}

  /** 93002 unless channel `name` is in a namespace with `mutableMessages`. */
  private requireMutable(auth: AuthContext, name: string): void {
    validateChannelName(name, this.options.maxChannelNameLength);
    if (!namespaceOf(auth.app, name)?.mutableMessages) {
      throw new AblyError(
        Err.mutableMessagesDisabled,
        `Message annotations, updates, deletes and appends are not enabled on channel "${name}" (its namespace needs mutableMessages)`,
      );
    }
  }

  /**
   * Applies an update, delete or append (`change.action`) to message `change.serial` of channel
   * `name`; resolves to the serial of the new version.
   */
  async change(source: PublishSource, name: string, change: Message): Promise<string> {
    this.requireMutable(source.auth, name);
    const action = change.action ?? MessageAction.CREATE;
    if (!isMutationAction(action))
      throw new AblyError(
        Err.invalidParameterValue,
        `Message action ${action} does not change a message: use 1 (update), 2 (delete) or 5 (append)`,
      );
    const serial = change.serial;
    if (serial === undefined || serial === '')
      throw new AblyError(
        Err.invalidParameterValue,
        'An update, delete or append needs the serial of the message it changes',
      );
    const ops = operationsFor(action);
    const onAnyones = allows(source.auth.capability, name, ops.anyone);
    if (!onAnyones) this.checkOwnAllowed(source, name, ops);
    const version: MessageVersion = { ...change.version, timestamp: this.clock.now() };
    const clientId = checkItemClientId(source.auth, source.clientId, change.version?.clientId);
    if (clientId === undefined) delete version.clientId;
    else version.clientId = clientId;
    const key = channelKey(source.auth.app.id, name);
    const events = await this.amend(key, source, serial, (stored) => {
      if (!onAnyones && stored.original.clientId !== source.clientId) {
        throw new AblyError(
          Err.capabilityDenied,
          `Permission denied: ${ops.own} only allows a client to ${ops.verb} its own messages`,
        );
      }
      const merged = mergeChange(stored.latest, change, version, `${source.idPrefix}:0`);
      this.checkSize(merged);
      return [this.event(source, version.timestamp!, merged)];
    });
    this.stats.countMessages(source.auth.app.id, 'inbound', source.transport, 'messages', events[0]!.messages!);
    this.metrics.published(source.transport, 1);
    return events[0]!.messages![0]!.version!.serial!;
  }

  private checkOwnAllowed(source: PublishSource, name: string, ops: ChangeOperations): void {
    if (!allows(source.auth.capability, name, ops.own)) {
      throw new AblyError(
        Err.capabilityDenied,
        `Permission denied: ${ops.anyone} (or ${ops.own}) is needed to ${ops.verb} a message on channel "${name}"`,
      );
    }
    if (source.clientId === undefined || source.clientId === '*') {
      throw new AblyError(
        Err.unidentifiedOwnMessages,
        `Unable to ${ops.verb} message: unidentified clients need ${ops.anyone} (they have no messages of their own, so ${ops.own} does not apply)`,
      );
    }
  }

  private checkSize(merged: MergedChange): void {
    const size = messageSize(merged.full ?? merged.live);
    if (size > this.options.maxMessageSize) {
      throw new AblyError(
        Err.maxMessageSizeExceeded,
        `The message would be ${size} bytes after this change, more than the maximum of ${this.options.maxMessageSize}`,
      );
    }
  }

  private event(source: PublishSource, timestamp: number, merged: MergedChange): ChannelEventInput {
    const event: ChannelEventInput = { kind: 'message', id: source.idPrefix, timestamp, messages: [merged.live] };
    if (source.connectionId !== undefined) event.connectionId = source.connectionId;
    if (merged.full) event.full = merged.full;
    return event;
  }

  /**
   * Publishes `annotations` (all of one message) on channel `name`, and the message's summary
   * after them; resolves to the annotations' serials.
   */
  async annotate(source: PublishSource, name: string, annotations: Annotation[]): Promise<string[]> {
    this.requireMutable(source.auth, name);
    if (!allows(source.auth.capability, name, 'annotation-publish')) {
      throw new AblyError(
        Err.capabilityDenied,
        `Permission denied: annotation-publish not permitted on channel "${name}"`,
      );
    }
    const serial = annotations[0]?.messageSerial;
    if (serial === undefined || annotations.some((a) => a.messageSerial !== serial)) {
      throw new AblyError(
        Err.invalidParameterValue,
        'Annotations need the messageSerial of the message they annotate (one message per publish)',
      );
    }
    const now = this.clock.now();
    const prepared = annotations.map((a, i) => this.prepare(source, a, i, now));
    const key = channelKey(source.auth.app.id, name);
    const events = await this.amend(key, source, serial, (stored) => {
      let summary = (stored.latest.annotations?.summary ?? {}) as Summary;
      for (const a of prepared)
        summary = applyAnnotation(summary, {
          action: a.action,
          type: a.type!,
          name: a.name,
          clientId: a.clientId,
          count: a.count,
        });
      return [
        this.annotationEvent(source, now, prepared),
        summaryEvent(stored.latest, serial, summary, now, `${source.idPrefix}:summary`),
      ];
    });
    this.stats.countMessages(source.auth.app.id, 'inbound', source.transport, 'messages', prepared);
    this.metrics.published(source.transport, prepared.length);
    return events[0]!.annotations!.map((a) => a.serial!);
  }

  /** An annotation in its stored form: checked (type, size), with its id, clientId, connectionId and timestamp. */
  private prepare(source: PublishSource, a: Annotation, index: number, now: number): Annotation {
    if (a.type === undefined || a.type === '')
      throw new AblyError(Err.invalidParameterValue, 'An annotation needs a type ("<namespace>:<method>.v1")');
    const size = annotationSize(a);
    if (size > this.options.maxMessageSize)
      throw new AblyError(
        Err.maxMessageSizeExceeded,
        `Annotation size ${size} exceeds the maximum of ${this.options.maxMessageSize} bytes`,
      );
    const out: Annotation = { ...a, id: a.id ?? `${source.idPrefix}:${index}`, timestamp: now };
    const clientId = checkItemClientId(source.auth, source.clientId, a.clientId);
    if (clientId === undefined) delete out.clientId;
    else out.clientId = clientId;
    if (source.connectionId !== undefined) out.connectionId = source.connectionId;
    else delete out.connectionId;
    return out;
  }

  private annotationEvent(source: PublishSource, now: number, annotations: Annotation[]): ChannelEventInput {
    const event: ChannelEventInput = { kind: 'annotation', id: source.idPrefix, timestamp: now, annotations };
    if (source.connectionId !== undefined) event.connectionId = source.connectionId;
    return event;
  }

  /** Reads message `serial`, builds its change, and appends it if the message is still as read. */
  private async amend(
    key: ChannelKey,
    source: PublishSource,
    serial: string,
    build: (stored: StoredMessage) => ChannelEventInput[],
  ): Promise<ChannelEvent[]> {
    const connection =
      source.msgSerial !== undefined && source.connectionId !== undefined && this.engine.connections
        ? { id: source.connectionId, msgSerial: source.msgSerial }
        : undefined;
    for (let attempt = 0; attempt < CHANGE_ATTEMPTS; attempt++) {
      const stored = await this.engine.channels.message(key, serial);
      if (!stored) throw notFound(serial);
      const events = build(stored);
      const outcome = await this.engine.channels.amend(key, {
        serial,
        token: stored.token,
        events,
        retention: this.retention,
        ...(connection ? { connection } : {}),
      });
      if (outcome === 'gone') throw notFound(serial);
      if (outcome !== 'retry') return outcome.events;
    }
    throw new AblyError(Err.internalChannel, 'The message kept changing while this change was applied; retry');
  }
}

/**
 * The summary event: subscribers get the message's serial, name, clientId, timestamp, version and
 * new summary (action summary, no payload; an id of the delivery's own); history and `getMessage`
 * the whole message with it.
 */
function summaryEvent(latest: Message, serial: string, summary: Summary, now: number, id: string): ChannelEventInput {
  const annotations = { summary };
  const live: Message = { id, action: MessageAction.SUMMARY, serial, annotations };
  if (latest.name !== undefined) live.name = latest.name;
  if (latest.clientId !== undefined) live.clientId = latest.clientId;
  if (latest.timestamp !== undefined) live.timestamp = latest.timestamp;
  if (latest.version !== undefined) live.version = latest.version;
  return { kind: 'message', timestamp: now, messages: [live], full: { ...latest, annotations } };
}
