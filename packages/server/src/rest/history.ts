/**
 * History: `GET /channels/<name>/messages` and `GET /channels/<name>/presence/history`.
 *
 * Pages are read by log position, not by time or offset, so paging never skips or repeats an item
 * while messages keep arriving: the first page fixes the upper bound (the head then, or the
 * `from_serial` attach point of `untilAttach`), and each `next` link carries a cursor
 * `<epoch>:<bound>:<seq>:<index>` naming the last item given. A cursor only names a position in the
 * channel of the URL, of the app of the credentials; one from another channel (another epoch) or
 * malformed is refused with 40003, and can never read anything else.
 */
import { AblyError, Err, itemForJson, type Message, type PresenceMessage } from '@encke/protocol';
import type { AuthContext } from '../auth/authenticate.js';
import { validateChannelName } from '../channels/names.js';
import { parseSerial } from '../engine/serial.js';
import {
  channelKey,
  type EventKind,
  type HistoryEntry,
  type HistoryQuery,
  type LogPosition,
} from '../engine/channel-store.js';
import type { HttpRequest, Router } from '../http/router.js';
import type { NodeContext } from '../context.js';
import { pageLinks, parseDirection, parseLimit, parseTimeRange } from './query.js';
import { appRoute, outputFormat, reply, requireCapability } from './request.js';

export function registerHistoryRoutes(router: Router, ctx: NodeContext): void {
  appRoute(router, ctx, 'GET', '/channels/:channel/messages', (http, auth) =>
    history(ctx, http, auth, 'message', 'messages'),
  );
  appRoute(router, ctx, 'GET', '/channels/:channel/presence/history', (http, auth) =>
    history(ctx, http, auth, 'presence', 'history'),
  );
}

interface HistoryCursor {
  epoch: string;
  untilSeq: number;
  after: LogPosition;
}

const CURSOR_RE = /^([A-Za-z0-9]{1,32}):([0-9a-z]{1,11}):([0-9a-z]{1,11}):([0-9a-z]{1,4})$/;

export function formatHistoryCursor(c: HistoryCursor): string {
  return `${c.epoch}:${c.untilSeq.toString(36)}:${c.after.seq.toString(36)}:${c.after.index.toString(36)}`;
}

export function parseHistoryCursor(text: string): HistoryCursor {
  const m = CURSOR_RE.exec(text);
  const untilSeq = m ? parseInt(m[2]!, 36) : NaN;
  const seq = m ? parseInt(m[3]!, 36) : NaN;
  if (!m || !Number.isSafeInteger(untilSeq) || !Number.isSafeInteger(seq) || seq > untilSeq) {
    throw new AblyError(Err.invalidParameterValue, 'Invalid cursor: use the Link of the previous page');
  }
  return { epoch: m[1]!, untilSeq, after: { seq, index: parseInt(m[4]!, 36) } };
}

/** The history query of a request: params, then the position from `cursor` or `from_serial`. */
function historyQuery(http: HttpRequest, kind: EventKind): HistoryQuery {
  const q = http.url.searchParams;
  const query: HistoryQuery = { kind, direction: parseDirection(q), limit: parseLimit(q), ...parseTimeRange(q) };
  const cursor = q.get('cursor');
  const fromSerial = q.get('from_serial');
  if (cursor !== null) {
    const c = parseHistoryCursor(cursor);
    query.epoch = c.epoch;
    query.untilSeq = c.untilSeq;
    query.after = c.after;
  } else if (fromSerial !== null) {
    // untilAttach: everything up to the attach point, the channelSerial of ATTACHED (docs/protocol.md).
    const from = parseSerial(fromSerial);
    if (!from)
      throw new AblyError(Err.invalidParameterValue, 'Invalid from_serial: expected a channelSerial of this channel');
    query.epoch = from.epoch;
    query.untilSeq = from.seq;
  }
  return query;
}

/** A stored item with the fields it inherits from its event (TM2a/c/f) made explicit. */
function itemOf(entry: HistoryEntry, kind: EventKind): Message | PresenceMessage {
  const { event, index } = entry;
  if (kind === 'message') return event.messages![index]!;
  const item = event.presence![index]!;
  const filled: PresenceMessage = { ...item };
  if (filled.id === undefined && event.id !== undefined) filled.id = `${event.id}:${index}`;
  if (filled.connectionId === undefined && event.connectionId !== undefined) filled.connectionId = event.connectionId;
  filled.timestamp ??= event.timestamp;
  return filled;
}

async function history(
  ctx: NodeContext,
  http: HttpRequest,
  auth: AuthContext,
  kind: EventKind,
  resource: string,
): Promise<void> {
  const name = http.params.channel!;
  validateChannelName(name, ctx.options.maxChannelNameLength);
  requireCapability(auth, name, 'history');
  const query = historyQuery(http, kind);
  const page = await ctx.engine.channels.history(channelKey(auth.app.id, name), query);
  if (page.stale) {
    throw new AblyError(
      Err.invalidParameterValue,
      'The cursor or from_serial is not a position of this channel (or its history has been discarded)',
    );
  }
  const format = outputFormat(http);
  const items = page.entries.map((e) => (format === 'json' ? itemForJson(itemOf(e, kind)) : itemOf(e, kind)));
  const last = page.entries[page.entries.length - 1];
  const next =
    page.more && page.head && last
      ? formatHistoryCursor({
          epoch: page.head.epoch,
          untilSeq: query.untilSeq ?? page.head.seq,
          after: { seq: last.event.seq, index: last.index },
        })
      : undefined;
  reply(http, 200, items, {
    Link: pageLinks(resource, http.url, { limit: String(query.limit), direction: query.direction }, next),
  });
}
