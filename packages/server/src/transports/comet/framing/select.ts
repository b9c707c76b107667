/**
 * Which framing and which mode a comet request asks for, from its query and `Accept`:
 *
 *   envelope=jsonp&callback=<name>        script-tag polling (never streamed)
 *   envelope=sse, or Accept: text/event-stream      Server-Sent Events
 *   envelope=htmlfile&origin=<o>|callback=<name>    forever-iframe
 *   envelope=multipart (or Accept multipart/x-mixed-replace), envelope=mixed (multipart/mixed)
 *   (none)                                JSON lines, or msgpack
 *
 * and, for a recv: `stream=true|false` (hold the response across batches; default: the
 * connection's mode, and always for sse/htmlfile/multipart), `wait=0` (plain polling: answer at
 * once with whatever is queued, `[]` if nothing) and `ack=<position>` (acknowledged polling: the
 * client has everything up to that position; only on answers that are not streamed).
 */
import { AblyError, Err } from '@encke/protocol';
import type { QueryParams } from '../../../http/query-params.js';
import type { Framing } from './framing.js';
import { HtmlfileFraming } from './htmlfile.js';
import { JsonpFraming } from './jsonp.js';
import { MultipartFraming } from './multipart.js';
import { parseCallback, parseOrigin, validCallback } from './script-safe.js';
import { SseFraming } from './sse.js';

export const ENVELOPE_PARAM = 'envelope';

/** How a recv is answered. */
export interface RecvMode {
  /** Undefined: JSON lines or msgpack, the plain comet body. */
  framing: Framing | undefined;
  /** Hold the response across batches. */
  stream: boolean;
  /** Plain polling: answer at once, even with nothing. */
  short: boolean;
  /** Acknowledged polling: the position the client confirms (`ack=`); undefined without one. */
  ack?: number | undefined;
}

/** The JSONP callback of a request that asks for `envelope=jsonp` with a valid one (for error answers). */
export function jsonpCallbackOf(query: URLSearchParams): string | undefined {
  return query.get(ENVELOPE_PARAM) === 'jsonp' ? validCallback(query.get('callback')) : undefined;
}

/** The framing a request asks for; 40003 for an unknown envelope or a bad callback or origin. */
export function requestFraming(
  query: QueryParams,
  acceptHeader: string | undefined,
  sseRetryMs: number,
): Framing | undefined {
  const envelope = query.get(ENVELOPE_PARAM);
  const accept = acceptHeader ?? '';
  switch (envelope) {
    case 'jsonp':
      return new JsonpFraming(parseCallback(query.get('callback')));
    case 'sse':
      return new SseFraming(sseRetryMs);
    case 'htmlfile':
      return new HtmlfileFraming(
        query.get('origin') !== null
          ? { origin: parseOrigin(query.get('origin')) }
          : { callback: parseCallback(query.get('callback')) },
      );
    case 'multipart':
      return new MultipartFraming('x-mixed-replace');
    case 'mixed':
      return new MultipartFraming('mixed');
    case null:
      if (accept.includes('text/event-stream')) return new SseFraming(sseRetryMs);
      if (accept.includes('multipart/x-mixed-replace')) return new MultipartFraming('x-mixed-replace');
      if (accept.includes('multipart/mixed')) return new MultipartFraming('mixed');
      return undefined;
    default:
      throw new AblyError(
        Err.invalidParameterValue,
        `Invalid envelope ${JSON.stringify(envelope.slice(0, 20))}: expected jsonp, sse, htmlfile, multipart or mixed`,
      );
  }
}

function flag(value: string | null, name: string): boolean | undefined {
  if (value === null) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new AblyError(
    Err.invalidParameterValue,
    `Invalid ${name} ${JSON.stringify(value.slice(0, 20))}: expected true or false`,
  );
}

// The plain body's modes, shared by every recv (a held recv keeps its mode).
const PLAIN_STREAM: RecvMode = Object.freeze({ framing: undefined, stream: true, short: false });
const PLAIN_LONG_POLL: RecvMode = Object.freeze({ framing: undefined, stream: false, short: false });
const PLAIN_POLL: RecvMode = Object.freeze({ framing: undefined, stream: false, short: true });

/** The mode of a recv (or of connect, its first recv) on a connection whose default is `streamDefault`. */
export function recvMode(
  query: QueryParams,
  accept: string | undefined,
  streamDefault: boolean,
  sseRetryMs: number,
): RecvMode {
  const mode = modeOf(query, accept, streamDefault, sseRetryMs);
  const ack = query.get('ack');
  if (ack === null) return mode;
  if (!/^\d{1,15}$/.test(ack))
    throw new AblyError(
      Err.invalidParameterValue,
      `Invalid ack ${JSON.stringify(ack.slice(0, 20))}: expected the position of the last answer received`,
    );
  if (mode.stream)
    throw new AblyError(
      Err.invalidParameterValue,
      'Invalid ack: only polled answers are acknowledged (stream=false, wait=0 or JSONP)',
    );
  return { ...mode, ack: Number(ack) };
}

function modeOf(query: QueryParams, accept: string | undefined, streamDefault: boolean, sseRetryMs: number): RecvMode {
  const framing = requestFraming(query, accept, sseRetryMs);
  const wait = query.get('wait');
  if (wait !== null && wait !== '0')
    throw new AblyError(
      Err.invalidParameterValue,
      `Invalid wait ${JSON.stringify(wait.slice(0, 20))}: only wait=0 (answer at once) is supported`,
    );
  const short = wait === '0';
  const asked = flag(query.get('stream'), 'stream');
  if (framing && !framing.streams) return { framing, stream: false, short };
  if (framing) return { framing, stream: asked ?? true, short: false };
  if (short) return PLAIN_POLL;
  return (asked ?? streamDefault) ? PLAIN_STREAM : PLAIN_LONG_POLL;
}
