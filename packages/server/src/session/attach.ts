/**
 * ATTACH and DETACH (RTL4, RTL5, protocol fact sheet §3.4).
 *
 * ATTACHED always carries the granted mode flags, the recognised params and a channelSerial:
 * - an ATTACH with a channelSerial the log can continue from gets RESUMED, then every message after
 *   that serial (HAS_BACKLOG when there are some), then live messages;
 * - otherwise the attach starts at the channel's head (with an error saying why continuity was
 *   lost, when the client asked for it), after any `rewind` backlog.
 * ATTACHED's channelSerial is the position after which this attachment delivers everything, so it
 * is both the client's resume cursor and its `attachSerial` for `history({untilAttach})`.
 */
import {
  AblyError,
  Action,
  Err,
  Flag,
  MODE_ALL,
  MODE_DEFAULT,
  parseModes,
  type ErrorInfo,
  type PresenceMessage,
  type ProtocolMessage,
} from '@encke/protocol';
import { allowedModes } from '../auth/capability.js';
import { formatSerial, parseSerial, type ParsedSerial } from '../engine/serial.js';
import type { AttachQuery, AttachState, ChannelEvent } from '../engine/channel-store.js';
import { validateChannelName } from '../channels/names.js';
import type { Attachment } from './attachment.js';
import { attachedFrame } from './attached-frame.js';
import { sendSync } from './presence.js';
import type { NodeContext } from '../context.js';
import type { SessionWithContext } from './with-context.js';
import { DELTA_FORMAT } from '../delta/delta-run.js';
import { compileFilter, MAX_FILTER_LENGTH, type MessageFilter } from '../filter/filter.js';
import { parseQualifiedName, type QualifiedName } from '../filter/qualified-name.js';

/** Room for a `[filter=<base64>?params]` qualifier beyond the longest channel name. */
const MAX_QUALIFIER_LENGTH = MAX_FILTER_LENGTH * 8 + 1024;

interface Negotiated {
  modes: number;
  /** Params echoed in ATTACHED: only those the server recognised. */
  params: Record<string, string> | undefined;
  rewind: Rewind | undefined;
  /** Messages as VCDIFF deltas (`delta: 'vcdiff'`). */
  delta: boolean;
}

type Rewind = { count: number; since?: number };

/** No backlog (most attaches): shared, never written to. */
const NO_EVENTS: readonly ChannelEvent[] = [];

interface StartPoint {
  cursor: number;
  backlog: readonly ChannelEvent[];
  flags: number;
  channelSerial: string;
  members: PresenceMessage[];
  error?: ErrorInfo;
}

const DURATION_RE = /^(\d{1,9})(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function parseRewind(value: string, ctx: NodeContext): Rewind {
  const max = ctx.options.rewindMaxCount;
  if (/^\d{1,9}$/.test(value)) return { count: Math.min(Number(value), max) };
  const m = DURATION_RE.exec(value);
  if (m) return { count: max, since: ctx.clock.now() - Number(m[1]) * UNIT_MS[m[2]!]! };
  throw new AblyError(
    Err.invalidParameterValue,
    `Invalid rewind ${JSON.stringify(value)}: give a message count ("10") or a duration ("30s", "2m")`,
  );
}

/** Compiled filters by expression: many subscribers of one filter share one compilation. */
const filters = new Map<string, MessageFilter>();
const MAX_CACHED_FILTERS = 1024;

function filterFor(expression: string): MessageFilter {
  let f = filters.get(expression);
  if (!f) {
    f = compileFilter(expression);
    if (filters.size >= MAX_CACHED_FILTERS) filters.clear();
    filters.set(expression, f);
  }
  return f;
}

/**
 * Modes and params for an ATTACH, within what the capability allows. A filtered attachment
 * (`[filter=…]name`) needs `subscribe` on `[filter]name` (or `[*]name`, `[*]*`; Ably docs,
 * subscription filter capabilities), only subscribes, and takes no rewind or delta.
 */
function negotiate(
  session: SessionWithContext,
  name: string,
  pm: ProtocolMessage,
  qualified: QualifiedName,
): Negotiated {
  const filtered = qualified.filter !== undefined;
  const resource = filtered ? `[filter]${qualified.base}` : qualified.base;
  const allowed = allowedModes(session.auth.capability, resource) & (filtered ? Flag.SUBSCRIBE : MODE_ALL);
  const given = qualified.params || pm.params ? { ...qualified.params, ...pm.params } : undefined;
  pm = given ? { ...pm, params: given } : pm;
  const params: Record<string, string> = {};
  let requested = filtered ? Flag.SUBSCRIBE : MODE_DEFAULT;
  let explicit = false;
  const modesParam = pm.params?.modes;
  if (modesParam !== undefined) {
    const parsed = parseModes(modesParam);
    if (parsed === undefined)
      throw new AblyError(Err.invalidParameterValue, `Invalid modes ${JSON.stringify(modesParam)}`);
    requested = parsed;
    explicit = true;
    params.modes = modesParam;
  } else if (((pm.flags ?? 0) & MODE_ALL) !== 0) {
    requested = (pm.flags ?? 0) & MODE_ALL;
    explicit = true;
  }
  if (explicit && (requested & ~allowed) !== 0) {
    throw new AblyError(
      Err.capabilityDenied,
      `Channel modes requested on "${name}" are not permitted by the capability`,
    );
  }
  const modes = requested & allowed;
  if (modes === 0)
    throw new AblyError(Err.capabilityDenied, `Channel denied access based on given capability: "${name}"`);
  let rewind: Rewind | undefined;
  const rewindParam = filtered ? undefined : pm.params?.rewind;
  if (rewindParam !== undefined) {
    rewind = parseRewind(rewindParam, session.ctx);
    params.rewind = rewindParam;
  }
  const deltaParam = filtered ? undefined : pm.params?.delta;
  if (deltaParam !== undefined && deltaParam !== DELTA_FORMAT) {
    throw new AblyError(
      Err.invalidParameterValue,
      `Invalid delta ${JSON.stringify(String(deltaParam).slice(0, 40))}: the only delta format is "${DELTA_FORMAT}"`,
    );
  }
  if (deltaParam !== undefined) params.delta = deltaParam;
  return {
    modes,
    params: Object.keys(params).length > 0 ? params : undefined,
    rewind,
    delta: deltaParam !== undefined,
  };
}

/** What the engine is asked for at attach: where to replay from, or how far to rewind, and the presence set. */
function attachQuery(
  ctx: NodeContext,
  pm: ProtocolMessage,
  from: ParsedSerial | undefined,
  rewind: Rewind | undefined,
  withMembers: boolean,
): AttachQuery {
  const query: AttachQuery = { replayLimit: ctx.options.channelLogMaxCount, members: withMembers };
  if (from) query.from = { epoch: from.epoch, seq: from.seq };
  // Never rewind a re-attach: one with a channelSerial, or ATTACH_RESUME from ably-js <= 2.26.
  else if (rewind !== undefined && pm.channelSerial === undefined && ((pm.flags ?? 0) & Flag.ATTACH_RESUME) === 0)
    query.rewind = rewind;
  return query;
}

/**
 * Where the new attachment starts, what it replays first, and the presence set to SYNC, from what
 * the engine answered (`state`) to `attachQuery`. Synchronous: the attach waits for the engine once.
 */
function startPoint(pm: ProtocolMessage, from: ParsedSerial | undefined, state: AttachState): StartPoint {
  const { head, members } = state;
  const fresh: StartPoint = { cursor: head.seq, backlog: NO_EVENTS, flags: 0, channelSerial: head.serial, members };
  if (pm.channelSerial !== undefined) {
    if (!from || !state.replay || from.epoch !== head.epoch || from.seq > head.seq) {
      return {
        ...fresh,
        error: new AblyError(
          Err.channelNoMatchingEpoch,
          'Unable to resume channel: channelSerial not recognised',
        ).toErrorInfo(),
      };
    }
    if (!state.replay.complete) {
      return {
        ...fresh,
        error: new AblyError(
          Err.channelMessagesExpired,
          'Unable to resume channel: messages expired from the channel log',
        ).toErrorInfo(),
      };
    }
    const events = state.replay.events;
    const hasBacklog = events.some((e) => e.kind === 'message');
    return {
      cursor: from.seq,
      backlog: events,
      flags: Flag.RESUMED | (hasBacklog ? Flag.HAS_BACKLOG : 0),
      channelSerial: pm.channelSerial,
      members,
    };
  }
  const rewound = state.rewound ?? NO_EVENTS;
  if (rewound.length === 0) return fresh;
  return {
    cursor: head.seq,
    backlog: rewound,
    flags: Flag.HAS_BACKLOG,
    channelSerial: formatSerial(head.epoch, rewound[0]!.seq - 1),
    members,
  };
}

function channelOf(pm: ProtocolMessage): string {
  if (pm.channel === undefined) throw new AblyError(Err.protocolError, `Action ${pm.action} without a channel`);
  return pm.channel;
}

/** What the first part of an attach settled: the new attachment, what it was granted, and what it waits for. */
interface Begun {
  att: Attachment;
  negotiated: Negotiated;
  /** The engine subscription of a channel new to this node (null: nothing to wait for). */
  ready: Promise<void> | null;
}

/**
 * ATTACH. With an engine that answers at once (the memory engine) it runs to its ATTACHED in the read
 * that brought it, without a promise or a microtask hop (bench S3); otherwise it returns a promise
 * while it waits for the engine (the inbound queue holds later messages until it settles).
 */
export function attach(session: SessionWithContext, pm: ProtocolMessage): Promise<void> | undefined {
  const name = channelOf(pm);
  let begun: Begun | undefined;
  try {
    begun = begin(session, name, pm);
    const ready = begun.ready;
    if (ready === null) return query(session, pm, name, begun);
    const attaching = begun;
    return ready
      .then(() => query(session, pm, name, attaching))
      .catch((err: unknown) => failed(session, name, attaching.att, err));
  } catch (err) {
    failed(session, name, begun?.att, err);
    return undefined;
  }
}

/** Validates the ATTACH, negotiates its modes and adds the attachment (replacing one of the same name). */
function begin(session: SessionWithContext, name: string, pm: ProtocolMessage): Begun {
  const ctx = session.ctx;
  if (name.length > ctx.options.maxChannelNameLength + MAX_QUALIFIER_LENGTH)
    validateChannelName(name, ctx.options.maxChannelNameLength);
  const qualified = parseQualifiedName(name);
  validateChannelName(qualified.base, ctx.options.maxChannelNameLength);
  const negotiated = negotiate(session, name, pm, qualified);
  const filter = qualified.filter === undefined ? undefined : filterFor(qualified.filter);
  // One view for the three uses (Session.attachments makes one per read).
  const attachments = session.attachments;
  const previous = attachments.get(name);
  if (previous) attachments.remove(previous);
  else if (attachments.size >= ctx.options.maxChannelsPerConnection) {
    ctx.faults.limitReached('maxChannelsPerConnection', { appId: session.app.id });
    throw new AblyError(
      Err.tooManyChannels,
      `A connection may have at most ${ctx.options.maxChannelsPerConnection} channels attached`,
    );
  }
  const added = attachments.add(name, negotiated.modes, qualified.base);
  const att = added.attachment;
  att.delta = negotiated.delta;
  att.filter = filter;
  // Only a channel this node is not yet subscribed to at the engine waits for that first.
  return { att, negotiated, ready: added.ready };
}

/** Asks the engine where the attachment starts; finishes at once if it answers at once. */
function query(
  session: SessionWithContext,
  pm: ProtocolMessage,
  name: string,
  begun: Begun,
): Promise<void> | undefined {
  const syncPresence = (begun.negotiated.modes & Flag.PRESENCE_SUBSCRIBE) !== 0;
  const from = pm.channelSerial !== undefined ? parseSerial(pm.channelSerial) : undefined;
  const q = attachQuery(session.ctx, pm, from, begun.negotiated.rewind, syncPresence);
  const answer = session.ctx.engine.channels.attachState(begun.att.channel.key, q);
  if (!(answer instanceof Promise)) return finish(session, pm, name, begun, startPoint(pm, from, answer));
  return answer
    .then((state) => finish(session, pm, name, begun, startPoint(pm, from, state)))
    .catch((err: unknown) => failed(session, name, begun.att, err));
}

/** ATTACHED (and any SYNC), then the attachment goes live: its backlog, then what arrived meanwhile. */
function finish(
  session: SessionWithContext,
  pm: ProtocolMessage,
  name: string,
  begun: Begun,
  start: StartPoint,
): undefined {
  const { att, negotiated } = begun;
  if (!session.attachments.isCurrent(att)) return; // detached or re-attached meanwhile
  if (att.overflowed) throw new AblyError(Err.internalChannel, 'Too many messages arrived while attaching; retry');
  // HAS_PRESENCE only when members exist, and then a SYNC must follow or presence.get() hangs.
  const hasPresence = start.members.length > 0;
  const flags = negotiated.modes | start.flags | (hasPresence ? Flag.HAS_PRESENCE : 0);
  if (negotiated.params || start.error) {
    const reply: ProtocolMessage = {
      action: Action.ATTACHED,
      channel: name,
      flags,
      channelSerial: start.channelSerial,
    };
    if (negotiated.params) reply.params = negotiated.params;
    if (start.error) reply.error = start.error;
    session.send(reply);
  } else {
    // The usual ATTACHED, written from its template in the transport's format (attached-frame.ts).
    session.enqueue(attachedFrame(session.transport?.format, name, flags, start.channelSerial));
  }
  if (hasPresence) sendSync(session, name, start.members);
  att.goLive(start.cursor, start.backlog);
  return undefined;
}

/** An attach that failed: its attachment goes (if still current), and the client is told. */
function failed(session: SessionWithContext, name: string, att: Attachment | undefined, err: unknown): void {
  if (att && session.attachments.isCurrent(att)) session.attachments.remove(att);
  attachFailed(session, name, err);
}

/** A failed ATTACH: ERROR for the channel, or DETACHED (the SDK retries later) when the server failed. */
function attachFailed(session: SessionWithContext, name: string, err: unknown): void {
  const e = AblyError.from(err);
  if (e.statusCode >= 500) {
    // A server-side failure is not the client's fault: DETACHED makes ably-js retry the attach later.
    session.ctx.logger.error({ err, channel: name }, 'attach failed');
    session.send({ action: Action.DETACHED, channel: name, error: e.toErrorInfo() });
  } else {
    session.send({ action: Action.ERROR, channel: name, error: e.toErrorInfo() });
  }
}

/** DETACH: the attachment goes, and so do this connection's presence members on the channel. */
export async function detach(session: SessionWithContext, pm: ProtocolMessage): Promise<void> {
  const name = channelOf(pm);
  const att = session.attachments.get(name);
  if (att) session.attachments.remove(att);
  await session.leavePresence(name);
  session.send({ action: Action.DETACHED, channel: name });
}
