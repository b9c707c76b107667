/**
 * A connect request's query string, read the way `URLSearchParams` reads it, for the one thing an
 * open asks of it: the first value of a few names. `new URLSearchParams()` builds a list of
 * entries through node's generic URL machinery, a large share of what an open spends on its own
 * work besides `ws` (bench/README, "open rate"). Here the text is split at `&` and `=` and a piece
 * is decoded only when it holds `%` or `+`. Text the fast path cannot read exactly as
 * `URLSearchParams` does (a malformed or non-UTF-8 escape, a lone surrogate) is handed to
 * `URLSearchParams` itself, so every answer is its answer (test/src/unit/query-params.test.ts).
 */

/** What a connect needs of a query: `URLSearchParams` has it too. */
export interface QueryParams {
  /** The first value of `name`, decoded; null when absent. */
  get(name: string): string | null;
}

const SURROGATE = /[\uD800-\uDFFF]/;
const PLUS = /\+/g;

/** `+` is a space, then percent-decoding as UTF-8; undefined where decodeURIComponent refuses (URLSearchParams would not). */
function decode(piece: string): string | undefined {
  if (piece.indexOf('%') < 0 && piece.indexOf('+') < 0) return piece;
  try {
    return decodeURIComponent(piece.replace(PLUS, ' '));
  } catch {
    return undefined;
  }
}

class SplitQuery implements QueryParams {
  constructor(
    /** Names and values, alternating, in order. */
    private readonly pairs: string[],
  ) {}

  get(name: string): string | null {
    const pairs = this.pairs;
    for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === name) return pairs[i + 1]!;
    return null;
  }
}

/** The parameters of `text` (a query string, without or with its leading `?`). */
export function parseQuery(text: string): QueryParams {
  // A lone surrogate becomes U+FFFD in URLSearchParams (USVString): rare enough to leave to it.
  if (SURROGATE.test(text)) return new URLSearchParams(text);
  const pairs: string[] = [];
  let at = text.charCodeAt(0) === 0x3f /* ? */ ? 1 : 0;
  while (at <= text.length) {
    let end = text.indexOf('&', at);
    if (end < 0) end = text.length;
    if (end > at) {
      const eq = text.indexOf('=', at);
      const split = eq >= 0 && eq < end;
      const name = decode(text.slice(at, split ? eq : end));
      const value = split ? decode(text.slice(eq + 1, end)) : '';
      if (name === undefined || value === undefined) return new URLSearchParams(text);
      pairs.push(name, value);
    }
    at = end + 1;
  }
  return new SplitQuery(pairs);
}
