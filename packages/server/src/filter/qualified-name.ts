/**
 * Qualified channel names (Ably docs, channels#derived; ably-js `channels.getDerived`):
 * `[filter=<base64 expression>]name`, `[?param=value&…]name`, or both (`[filter=<b64>?rewind=1]name`).
 * The qualifier is part of the name the client knows the channel by (ATTACHED and MESSAGE carry it
 * back unchanged); the channel itself is the bare name. `[meta]` and other qualifiers are refused.
 */
import { AblyError, Err } from '@encke/protocol';
import { MAX_FILTER_LENGTH } from './filter.js';

export interface QualifiedName {
  /** The channel the name refers to. */
  base: string;
  /** The decoded filter expression, when the name has one. */
  filter?: string;
  /** Params given in the name (`[?rewind=1]name`). */
  params?: Record<string, string>;
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const FILTER_PREFIX = 'filter=';
const MAX_NAME_PARAMS = 16;

function invalid(name: string, problem: string): AblyError {
  return new AblyError(
    Err.invalidChannelName,
    `Invalid channel name ${JSON.stringify(name.slice(0, 100))}: ${problem}`,
  );
}

function decodeFilter(name: string, encoded: string): string {
  if (encoded.length === 0 || encoded.length % 4 !== 0 || !BASE64_RE.test(encoded))
    throw invalid(name, 'the filter is not base64');
  if (encoded.length > MAX_FILTER_LENGTH * 8)
    throw invalid(name, `the filter is longer than ${MAX_FILTER_LENGTH} characters`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(encoded, 'base64'));
  } catch {
    throw invalid(name, 'the filter is not UTF-8 text');
  }
}

function parseParams(name: string, query: string): Record<string, string> {
  const params: Record<string, string> = {};
  let count = 0;
  for (const [k, v] of new URLSearchParams(query)) {
    if (++count > MAX_NAME_PARAMS) throw invalid(name, `more than ${MAX_NAME_PARAMS} params`);
    if (k === '') throw invalid(name, 'a param without a name');
    params[k] = v;
  }
  return params;
}

/** Splits a channel name into its base, filter and params; ordinary names come back as `{ base }`. */
export function parseQualifiedName(name: string): QualifiedName {
  if (!name.startsWith('[')) return { base: name };
  const end = name.indexOf(']');
  if (end < 0) throw invalid(name, 'unterminated "[" qualifier');
  const qualifier = name.slice(1, end);
  const base = name.slice(end + 1);
  if (base.length === 0 || base.startsWith('[')) throw invalid(name, 'no channel after the qualifier');
  const q = qualifier.indexOf('?');
  const head = q < 0 ? qualifier : qualifier.slice(0, q);
  const out: QualifiedName = { base };
  if (q >= 0) out.params = parseParams(name, qualifier.slice(q + 1));
  if (head.startsWith(FILTER_PREFIX)) out.filter = decodeFilter(name, head.slice(FILTER_PREFIX.length));
  else if (head !== '') throw invalid(name, `"[${head}]" channels are not supported`);
  return out;
}
