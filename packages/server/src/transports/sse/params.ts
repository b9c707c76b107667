/**
 * Request parameters of Ably's SSE and raw HTTP streaming API (`GET /sse`, `GET /event-stream`):
 * `channels` (alias `channel`) split by `separator` (default `,`), mandatory `v`, `key` or
 * `accessToken` (or an Authorization header), `lastEvent` (or `Last-Event-ID`), `rewind`,
 * `enveloped` (default true), `heartbeats` (default false).
 */
import type { IncomingMessage } from 'node:http';
import { AblyError, Err } from '@encke/protocol';
import type { Credentials } from '../../auth/authenticate.js';
import { requestCredentials } from '../../auth/credentials.js';

export interface EventStreamParams {
  channels: string[];
  credentials: Credentials | undefined;
  lastEvent: string | undefined;
  rewind: string | undefined;
  enveloped: boolean;
  heartbeats: boolean;
}

/** API versions of the SSE API: 1.0 up to today's protocol versions; Ably recommends `v=1.2`. */
const VERSION_RE = /^[1-9]\d{0,2}(?:\.\d{1,3})?$/;
const MAX_SEPARATOR_LENGTH = 8;

function flag(query: URLSearchParams, name: string, fallback: boolean): boolean {
  const value = query.get(name);
  if (value === null) return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new AblyError(
    Err.invalidParameterValue,
    `Invalid ${name} ${JSON.stringify(value.slice(0, 20))}: expected true or false`,
  );
}

export function parseEventStreamParams(
  query: URLSearchParams,
  req: IncomingMessage,
  maxChannels: number,
): EventStreamParams {
  const v = query.get('v');
  if (v === null) throw new AblyError(Err.badRequest, 'The v parameter is mandatory (the API version, e.g. v=1.2)');
  if (!VERSION_RE.test(v))
    throw new AblyError(Err.unsupportedProtocolVersion, `Unsupported API version ${JSON.stringify(v.slice(0, 20))}`);
  const separator = query.get('separator') ?? ',';
  if (separator === '' || separator.length > MAX_SEPARATOR_LENGTH) {
    throw new AblyError(Err.invalidParameterValue, `Invalid separator: 1 to ${MAX_SEPARATOR_LENGTH} characters`);
  }
  const list = query.get('channels') ?? query.get('channel');
  if (list === null || list === '')
    throw new AblyError(Err.badRequest, 'The channels parameter is mandatory (one or more channel names)');
  const channels = [...new Set(list.split(separator))];
  if (channels.some((c) => c === '')) throw new AblyError(Err.invalidChannelName, 'Empty channel name in channels');
  if (channels.length > maxChannels)
    throw new AblyError(Err.invalidParameterValue, `At most ${maxChannels} channels per stream`);
  const header = req.headers['last-event-id'];
  const lastEvent =
    (typeof header === 'string' && header !== '' ? header : undefined) ?? query.get('lastEvent') ?? undefined;
  return {
    channels,
    credentials: requestCredentials(query, req.headers.authorization),
    lastEvent: lastEvent === '' ? undefined : lastEvent,
    rewind: query.get('rewind') ?? undefined,
    enveloped: flag(query, 'enveloped', true),
    heartbeats: flag(query, 'heartbeats', false),
  };
}
