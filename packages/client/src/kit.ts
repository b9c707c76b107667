/**
 * What the core hands to the modules it loads on demand (transports, presence, REST, token
 * fetching). Those modules import only types from the core and take these values from here, so a
 * bundler puts every piece of shared code in the core's one file instead of splitting it into
 * extra chunks that each page would download separately.
 */
import { Action, Flag, PresenceAction } from '@encke/protocol/constants';
import { Err, ErrorInfo } from './errors.js';
import { Emitter } from './util/emitter.js';
import { randomId, toBase64, utf8Encode } from './util/bytes.js';
import { errorOf, send } from './util/http.js';
import { decodeData, decodeMessage, encodeData } from './channel/message.js';
import type { Realtime } from './realtime.js';

/** `url` with `params` added to its query. */
export function withQuery(url: string, params: Record<string, string>): string {
  const q = new URLSearchParams(params).toString();
  if (!q) return url;
  return url + (url.includes('?') ? '&' : '?') + q;
}

/**
 * What the core sets at load that this module cannot import (it would be a cycle): the client
 * class, for the hub of a shared connection (shared/), which runs a client of its own.
 */
export const late: { Realtime?: typeof Realtime } = {};

export const kit = {
  Action,
  PresenceAction,
  Flag,
  Err,
  ErrorInfo,
  Emitter,
  withQuery,
  send,
  errorOf,
  toBase64,
  utf8Encode,
  randomId,
  encodeData,
  decodeMessage,
  decodeData,
  late,
} as const;

export type Kit = typeof kit;
