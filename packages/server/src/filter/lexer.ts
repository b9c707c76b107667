/**
 * Tokens of subscription filter expressions: the part of JMESPath that Ably's subscription filters
 * use (Ably docs, pub-sub/advanced#subscription-filters): identifiers (plain or "quoted"), `.`,
 * comparators, `&&`, `||`, `!`, parentheses, JSON literals in backticks and 'raw string' literals.
 */
import { AblyError, Err, isArrayValue, isPlainObject, parseJson } from '@encke/protocol';

export type TokenKind = 'ident' | 'literal' | 'dot' | 'cmp' | 'and' | 'or' | 'not' | 'lparen' | 'rparen' | 'end';
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Token {
  kind: TokenKind;
  /** Where the token starts in the expression (for error messages). */
  at: number;
  /** Identifier name, comparator text. */
  text?: string;
  /** Literal value. */
  value?: Json;
}

export const COMPARATORS = ['==', '!=', '<=', '>=', '<', '>'] as const;
export type Comparator = (typeof COMPARATORS)[number];

/** An AblyError for a filter expression that cannot be used (40010, like any unusable channel name). */
export function filterError(at: number, problem: string): AblyError {
  return new AblyError(Err.invalidChannelName, `Invalid filter expression at position ${at}: ${problem}`);
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;

/** The end of the literal opened by `quote` at `start` (the index of the closing quote). */
function closing(text: string, start: number, quote: string): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === quote) return i;
  }
  throw filterError(start, `unterminated ${quote === '`' ? 'literal' : 'string'}`);
}

/**
 * Whether `value` is JSON data: null, booleans, numbers, strings, arrays and plain objects of them
 * (what JSON.parse gives; checked, not assumed). Iterative: a literal nests as deep as its text allows.
 */
function isJson(value: unknown): value is Json {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const v = pending.pop();
    if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') continue;
    if (isArrayValue(v)) for (const item of v) pending.push(item);
    else if (isPlainObject(v)) for (const item of Object.values(v)) pending.push(item);
    else return false;
  }
  return true;
}

function jsonLiteral(text: string, at: number): Json {
  let value: unknown;
  try {
    value = parseJson(text);
  } catch {
    // not JSON at all: refused below (undefined is no JSON value)
  }
  if (!isJson(value)) throw filterError(at, `${JSON.stringify(text.slice(0, 40))} is not a JSON value`);
  return value;
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const two = text.slice(i, i + 2);
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++;
    else if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < text.length && IDENT_PART.test(text[j]!)) j++;
      tokens.push({ kind: 'ident', at: i, text: text.slice(i, j) });
      i = j;
    } else if (c === '"') {
      const end = closing(text, i, '"');
      const name = jsonLiteral(text.slice(i, end + 1), i);
      if (typeof name !== 'string') throw filterError(i, 'a quoted identifier is not a string');
      tokens.push({ kind: 'ident', at: i, text: name });
      i = end + 1;
    } else if (c === '`') {
      const end = closing(text, i, '`');
      tokens.push({ kind: 'literal', at: i, value: jsonLiteral(text.slice(i + 1, end).replace(/\\`/g, '`'), i) });
      i = end + 1;
    } else if (c === "'") {
      const end = closing(text, i, "'");
      tokens.push({ kind: 'literal', at: i, value: text.slice(i + 1, end).replace(/\\'/g, "'") });
      i = end + 1;
    } else if ((COMPARATORS as readonly string[]).includes(two)) {
      tokens.push({ kind: 'cmp', at: i, text: two });
      i += 2;
    } else if (two === '&&' || two === '||') {
      tokens.push({ kind: two === '&&' ? 'and' : 'or', at: i });
      i += 2;
    } else if (c === '<' || c === '>') {
      tokens.push({ kind: 'cmp', at: i, text: c });
      i++;
    } else if (c === '!' || c === '.' || c === '(' || c === ')') {
      tokens.push({ kind: c === '!' ? 'not' : c === '.' ? 'dot' : c === '(' ? 'lparen' : 'rparen', at: i });
      i++;
    } else {
      throw filterError(i, `unexpected ${JSON.stringify(c)}`);
    }
  }
  tokens.push({ kind: 'end', at: text.length });
  return tokens;
}
