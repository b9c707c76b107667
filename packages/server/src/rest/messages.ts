/**
 * One message of a channel over REST (Ably REST API, ably-js restchannelmixin.ts and
 * restannotations.ts):
 *
 * - `GET /channels/<name>/messages/<serial>`: the message as it now stands (`getMessage`);
 * - `PATCH /channels/<name>/messages/<serial>`: an update, delete or append (body: the Message,
 *   `action` 1, 2 or 5, `version` the operation), answered `{versionSerial}`;
 * - `GET …/<serial>/versions`: every version, the original first (`getMessageVersions`);
 * - `GET …/<serial>/annotations`: every annotation, oldest first (`annotations.get`);
 * - `POST …/<serial>/annotations`: publishes annotations (`annotations.publish` / `delete`).
 *
 * Reading needs `history` on the channel; the changes need what channels/message-changes.ts says.
 * Lists are paged oldest first by serial: a `next` link carries the serial of the last item given.
 */
import {
  AblyError,
  Err,
  isPlainObject,
  itemForJson,
  parseAnnotation,
  parseMessage,
  type Annotation,
  type Message,
  isArrayValue,
} from '@encke/protocol';
import type { AuthContext } from '../auth/authenticate.js';
import type { PublishSource } from '../channels/publisher.js';
import { validateChannelName } from '../channels/names.js';
import type { NodeContext } from '../context.js';
import { channelKey } from '../engine/channel-store.js';
import type { HttpRequest, Router } from '../http/router.js';
import { randomId } from '../util/ids.js';
import { pageLinks, parseLimit } from './query.js';
import { appRoute, outputFormat, readRequestBody, reply, requestClientId, requireCapability } from './request.js';

const MESSAGE = '/channels/:channel/messages/:serial';

export function registerMessageRoutes(router: Router, ctx: NodeContext): void {
  appRoute(router, ctx, 'GET', MESSAGE, (http, auth) => getMessage(ctx, http, auth));
  appRoute(router, ctx, 'PATCH', MESSAGE, (http, auth) => changeMessage(ctx, http, auth));
  appRoute(router, ctx, 'GET', `${MESSAGE}/versions`, (http, auth) => listChain(ctx, http, auth, 'versions'));
  appRoute(router, ctx, 'GET', `${MESSAGE}/annotations`, (http, auth) => listChain(ctx, http, auth, 'annotations'));
  appRoute(router, ctx, 'POST', `${MESSAGE}/annotations`, (http, auth) => publishAnnotations(ctx, http, auth));
}

function notFound(serial: string): AblyError {
  return new AblyError(Err.notFound, `No message with serial ${JSON.stringify(serial.slice(0, 80))} on this channel`);
}

/** The channel and message serial of the path, the channel's name checked. */
function target(ctx: NodeContext, http: HttpRequest): { name: string; serial: string } {
  const name = http.params.channel!;
  validateChannelName(name, ctx.options.maxChannelNameLength);
  return { name, serial: http.params.serial! };
}

function source(http: HttpRequest, auth: AuthContext): PublishSource {
  return {
    auth,
    clientId: requestClientId(http, auth),
    connectionId: undefined,
    idPrefix: randomId(9),
    transport: 'rest',
  };
}

function forFormat<T extends Message | Annotation>(http: HttpRequest, item: T): T {
  return outputFormat(http) === 'json' ? itemForJson(item) : item;
}

async function getMessage(ctx: NodeContext, http: HttpRequest, auth: AuthContext): Promise<void> {
  const { name, serial } = target(ctx, http);
  requireCapability(auth, name, 'history');
  const stored = await ctx.engine.channels.message(channelKey(auth.app.id, name), serial);
  if (!stored) throw notFound(serial);
  reply(http, 200, forFormat(http, stored.latest));
}

/** The body of a PATCH: one message (or an array of exactly one, as some clients send). */
function changeOf(raw: unknown, serial: string): Message {
  const one: unknown = isArrayValue(raw) && raw.length === 1 ? raw[0] : raw;
  if (!isPlainObject(one))
    throw new AblyError(Err.badRequest, 'The body must be one message: {action, version?, name?, data?, extras?}');
  const change = parseMessage(one, 'message');
  if (change.serial !== undefined && change.serial !== serial)
    throw new AblyError(Err.invalidParameterValue, 'The message serial in the body differs from the one in the path');
  if (change.action === undefined)
    throw new AblyError(Err.invalidParameterValue, 'The message needs an action: 1 (update), 2 (delete) or 5 (append)');
  return { ...change, serial };
}

async function changeMessage(ctx: NodeContext, http: HttpRequest, auth: AuthContext): Promise<void> {
  const { name, serial } = target(ctx, http);
  const change = changeOf(await readRequestBody(ctx, http), serial);
  const versionSerial = await ctx.changes.change(source(http, auth), name, change);
  reply(http, 200, { versionSerial });
}

/** The annotations of a POST body (one or an array), each of the message of the path. */
function annotationsOf(raw: unknown, serial: string): Annotation[] {
  const items = isArrayValue(raw) ? raw : [raw];
  if (items.length === 0)
    throw new AblyError(Err.badRequest, 'The body must be an annotation or a non-empty array of them');
  return items.map((item, i) => {
    const a = parseAnnotation(item, `annotations[${i}]`);
    if (a.messageSerial !== undefined && a.messageSerial !== serial)
      throw new AblyError(Err.invalidParameterValue, 'An annotation names another message than the path');
    return { ...a, messageSerial: serial };
  });
}

async function publishAnnotations(ctx: NodeContext, http: HttpRequest, auth: AuthContext): Promise<void> {
  const { name, serial } = target(ctx, http);
  const annotations = annotationsOf(await readRequestBody(ctx, http), serial);
  const serials = await ctx.changes.annotate(source(http, auth), name, annotations);
  reply(http, 201, { serials });
}

/** The position of a version (its version serial; the original's own serial) or of an annotation. */
function positionOf(item: Message | Annotation): string {
  return ('version' in item && item.version?.serial) || item.serial || '';
}

async function listChain(
  ctx: NodeContext,
  http: HttpRequest,
  auth: AuthContext,
  what: 'versions' | 'annotations',
): Promise<void> {
  const { name, serial } = target(ctx, http);
  requireCapability(auth, name, 'history');
  const q = http.url.searchParams;
  const limit = parseLimit(q);
  const cursor = q.get('cursor');
  const chain = await ctx.engine.channels.chain(channelKey(auth.app.id, name), serial);
  if (!chain) throw notFound(serial);
  const all: (Message | Annotation)[] = chain[what];
  const start = cursor === null ? 0 : all.findIndex((item) => positionOf(item) > cursor);
  const page = start < 0 ? [] : all.slice(start, start + limit);
  const more = start >= 0 && start + limit < all.length;
  const next = more ? positionOf(page[page.length - 1]!) : undefined;
  reply(
    http,
    200,
    page.map((item) => forFormat(http, item)),
    { Link: pageLinks(what, http.url, { limit: String(limit) }, next) },
  );
}
