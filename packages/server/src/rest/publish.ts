/**
 * Publishing over REST: `POST /channels/<name>/messages` (one message or an array) and batch
 * publish `POST /messages`. Both go through the same publish path as realtime MESSAGEs
 * (channels/publish.ts): capability, size, clientId rules, idempotency by message `id`.
 *
 * - The request's clientId is `X-Ably-ClientId` (base64) or the token's.
 * - A message `connectionKey` publishes on behalf of that realtime connection of the same app
 *   (40006 otherwise): the messages carry its connectionId, and its clientId when they have none.
 * - Publish params arrive as query params; none changes what is stored.
 * - Batch answers: `X-Ably-Version` 3 and later get a BatchResult per spec (an array when the body
 *   was an array); version 2 gets the flat per-channel array, or 400 40020 with `batchResponse`
 *   when any channel failed.
 */
import { AblyError, Err, isPlainObject, parseMessage, type Message, isArrayValue } from '@encke/protocol';
import type { AuthContext } from '../auth/authenticate.js';
import type { PublishSource } from '../channels/publisher.js';
import type { NodeContext } from '../context.js';
import type { HttpRequest, Router } from '../http/router.js';
import { randomId } from '../util/ids.js';
import { appRoute, protocolVersion, readRequestBody, reply, requestClientId } from './request.js';

/** Batch publish answers in the v2 flat form below this protocol version. */
const BATCH_RESULT_VERSION = 3;

export function registerPublishRoutes(router: Router, ctx: NodeContext): void {
  appRoute(router, ctx, 'POST', '/channels/:channel/messages', (http, auth) => publishOne(ctx, http, auth));
  appRoute(router, ctx, 'POST', '/messages', (http, auth) => publishBatch(ctx, http, auth));
}

/** The messages of a body that is one message or an array of them. */
function parseMessages(raw: unknown): Message[] {
  if (isArrayValue(raw)) return raw.map((m, i) => parseMessage(m, `messages[${i}]`));
  return [parseMessage(raw, 'message')];
}

/**
 * The connection a publish names by `connectionKey`, checked to be a connection of the same app: on
 * this node, or (in a cluster) on any node, by its shared record.
 */
async function onBehalfOf(
  ctx: NodeContext,
  auth: AuthContext,
  messages: readonly Message[],
): Promise<{ connectionId: string; clientId: string | undefined } | undefined> {
  const keys = new Set<string>();
  for (const m of messages) if (m.connectionKey !== undefined) keys.add(m.connectionKey);
  if (keys.size === 0) return undefined;
  if (keys.size > 1)
    throw new AblyError(Err.invalidConnectionIdInMessage, 'The messages of one publish name different connectionKeys');
  const found = await ctx.sessions.lookup([...keys][0]!, auth.app.id);
  // Another app's connection is refused exactly like an unknown one.
  if (found.where === 'unknown')
    throw new AblyError(Err.invalidConnectionIdInMessage, 'The connectionKey does not name a connection of this app');
  if (found.where === 'local') return { connectionId: found.session.id, clientId: found.session.clientId };
  return { connectionId: found.record.connectionId, clientId: found.record.clientId };
}

/** Who publishes `messages` for this request. */
async function sourceFor(
  ctx: NodeContext,
  http: HttpRequest,
  auth: AuthContext,
  messages: readonly Message[],
): Promise<PublishSource> {
  let clientId = requestClientId(http, auth);
  const connection = await onBehalfOf(ctx, auth, messages);
  if (connection?.clientId !== undefined && connection.clientId !== '*') {
    if (clientId !== undefined && clientId !== '*' && clientId !== connection.clientId) {
      throw new AblyError(
        Err.invalidClientId,
        `Mismatched clientId: the request is ${JSON.stringify(clientId)}, the connection ${JSON.stringify(connection.clientId)}`,
      );
    }
    clientId = connection.clientId;
  }
  return { auth, clientId, connectionId: connection?.connectionId, idPrefix: randomId(9), transport: 'rest' };
}

/** Publishes on one channel; the message id of the first message (`<prefix>:0` when generated) and the serials. */
async function publishTo(
  ctx: NodeContext,
  source: PublishSource,
  name: string,
  messages: Message[],
): Promise<{ messageId: string; serials: string[] }> {
  const outcome = await ctx.publisher.publish(source, name, messages);
  return { messageId: messages[0]!.id!, serials: outcome.serials };
}

async function publishOne(ctx: NodeContext, http: HttpRequest, auth: AuthContext): Promise<void> {
  const name = http.params.channel!;
  ctx.publisher.check(auth, name); // before reading a body that would be refused anyway
  const messages = parseMessages(await readRequestBody(ctx, http));
  const { messageId, serials } = await publishTo(ctx, await sourceFor(ctx, http, auth, messages), name, messages);
  reply(http, 201, { channel: name, messageId, serials });
}

interface BatchSpec {
  channels: string[];
  /** Raw messages: parsed again for each channel, since publishing fills them in. */
  messages: readonly unknown[];
}

type ChannelResult =
  { channel: string; messageId: string } | { channel: string; error: ReturnType<AblyError['toErrorInfo']> };

function parseSpec(raw: unknown, where: string): BatchSpec {
  if (!isPlainObject(raw)) throw new AblyError(Err.badRequest, `${where} must be an object {channels, messages}`);
  const channels = typeof raw.channels === 'string' ? [raw.channels] : raw.channels;
  if (!isArrayValue(channels) || channels.length === 0 || !channels.every((c): c is string => typeof c === 'string')) {
    throw new AblyError(Err.badRequest, `${where}.channels must be a non-empty array of channel names`);
  }
  const messages = isArrayValue(raw.messages) ? raw.messages : [raw.messages];
  if (messages.length === 0 || raw.messages === undefined)
    throw new AblyError(Err.badRequest, `${where}.messages must be a message or a non-empty array of them`);
  messages.forEach((m, i) => parseMessage(m, `${where}.messages[${i}]`));
  return { channels: [...channels], messages };
}

async function publishSpec(
  ctx: NodeContext,
  http: HttpRequest,
  auth: AuthContext,
  spec: BatchSpec,
): Promise<ChannelResult[]> {
  return Promise.all(
    spec.channels.map(async (channel): Promise<ChannelResult> => {
      try {
        const messages = spec.messages.map((m) => parseMessage(m));
        return {
          channel,
          messageId: (await publishTo(ctx, await sourceFor(ctx, http, auth, messages), channel, messages)).messageId,
        };
      } catch (err) {
        const e = AblyError.from(err);
        if (e.statusCode >= 500) ctx.logger.error({ err, channel }, 'batch publish failed');
        return { channel, error: e.toErrorInfo() };
      }
    }),
  );
}

async function publishBatch(ctx: NodeContext, http: HttpRequest, auth: AuthContext): Promise<void> {
  const version = protocolVersion(http);
  const body = await readRequestBody(ctx, http);
  const single = !isArrayValue(body);
  const specs = (single ? [body] : body).map((s, i) => parseSpec(s, `specs[${i}]`));
  const total = specs.reduce((n, s) => n + s.channels.length, 0);
  if (total > ctx.options.maxBatchChannels) {
    throw new AblyError(
      Err.batchError,
      `A batch may publish to at most ${ctx.options.maxBatchChannels} channels in all (this one: ${total})`,
    );
  }
  const results = await Promise.all(specs.map((spec) => publishSpec(ctx, http, auth, spec)));
  if (version < BATCH_RESULT_VERSION) {
    const flat = results.flat();
    if (flat.some((r) => 'error' in r)) {
      const error = new AblyError(Err.batchError, 'Batched response includes errors');
      reply(
        http,
        400,
        { error: error.toErrorInfo(), batchResponse: flat },
        { 'X-Ably-ErrorCode': String(error.code), 'X-Ably-ErrorMessage': error.message },
      );
    } else {
      reply(http, 201, flat);
    }
    return;
  }
  const batchResults = results.map((r) => {
    const failureCount = r.filter((x) => 'error' in x).length;
    return { successCount: r.length - failureCount, failureCount, results: r };
  });
  reply(http, 201, single ? batchResults[0] : batchResults);
}
