/**
 * Subscription filters (Ably docs, pub-sub/advanced#subscription-filters): a JMESPath expression
 * over a message's `name`, `clientId` and `extras.headers`, e.g.
 * ``name == `"ice-cream"` && headers.flavor == `"strawberry"` && headers.cost < `50` ``.
 *
 * Grammar (precedence low to high; JMESPath semantics):
 *   expr       := and ('||' and)*          `a || b` is a when a is truthy, else b
 *   and        := not ('&&' not)*          `a && b` is a when a is falsy, else b
 *   not        := '!' not | comparison
 *   comparison := primary (cmp primary)?   == != compare JSON values; < <= > >= numbers only (else null)
 *   primary    := '(' expr ')' | literal | field
 *   field      := ident ('.' ident)*       roots: name, clientId, headers
 * A message passes when the expression's value is truthy (not false, null, "", [], {}).
 *
 * `compileFilter` parses once into closures; a channel evaluates each distinct filter once per
 * message. Anything wrong with an expression is a 40010 with the position and the problem.
 */
import { COMPARATORS, filterError, tokenize, type Comparator, type Json, type Token } from './lexer.js';

/** What a filter sees of a message. */
export interface FilterInput {
  name?: string;
  clientId?: string;
  extras?: Record<string, unknown>;
}

type Node = (msg: FilterInput) => Json | undefined;
export type MessageFilter = (msg: FilterInput) => boolean;

/** Longest expression accepted (the decoded text). */
export const MAX_FILTER_LENGTH = 2048;
/** Deepest nesting of parentheses and `!`. */
const MAX_DEPTH = 32;
const ROOTS = new Set(['name', 'clientId', 'headers']);

function headersOf(msg: FilterInput): Json | undefined {
  const h = msg.extras?.headers;
  return h !== null && typeof h === 'object' && !Array.isArray(h) ? (h as Json) : undefined;
}

export function truthy(v: Json | undefined): boolean {
  if (v === undefined || v === null || v === false || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  const x = a ?? null;
  const y = b ?? null;
  if (x === y) return true;
  if (x === null || y === null || typeof x !== 'object' || typeof y !== 'object') return false;
  if (Array.isArray(x) !== Array.isArray(y)) return false;
  const kx = Object.keys(x);
  const ky = Object.keys(y);
  if (kx.length !== ky.length) return false;
  const ox = x as Record<string, Json>;
  const oy = y as Record<string, Json>;
  return kx.every((k) => Object.prototype.hasOwnProperty.call(oy, k) && jsonEqual(ox[k], oy[k]));
}

function compare(op: Comparator, a: Json | undefined, b: Json | undefined): Json {
  if (op === '==') return jsonEqual(a, b);
  if (op === '!=') return !jsonEqual(a, b);
  if (typeof a !== 'number' || typeof b !== 'number') return null;
  return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
}

class Parser {
  private i = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    return this.tokens[this.i++]!;
  }

  private describe(t: Token): string {
    if (t.kind === 'end') return 'end of expression';
    if (t.kind === 'ident') return `"${t.text}"`;
    if (t.kind === 'literal') return 'a literal';
    return t.kind === 'cmp'
      ? `"${t.text}"`
      : { dot: '"."', and: '"&&"', or: '"||"', not: '"!"', lparen: '"("', rparen: '")"' }[t.kind];
  }

  parse(): Node {
    const node = this.or();
    const t = this.peek();
    if (t.kind !== 'end') throw filterError(t.at, `unexpected ${this.describe(t)}`);
    return node;
  }

  private nested<T>(at: number, parse: () => T): T {
    if (++this.depth > MAX_DEPTH) throw filterError(at, `nested deeper than ${MAX_DEPTH}`);
    const node = parse();
    this.depth--;
    return node;
  }

  private or(): Node {
    let left = this.and();
    while (this.peek().kind === 'or') {
      this.next();
      const l = left;
      const r = this.and();
      left = (m) => {
        const v = l(m);
        return truthy(v) ? v : r(m);
      };
    }
    return left;
  }

  private and(): Node {
    let left = this.not();
    while (this.peek().kind === 'and') {
      this.next();
      const l = left;
      const r = this.not();
      left = (m) => {
        const v = l(m);
        return truthy(v) ? r(m) : v;
      };
    }
    return left;
  }

  private not(): Node {
    const t = this.peek();
    if (t.kind !== 'not') return this.comparison();
    this.next();
    const inner = this.nested(t.at, () => this.not());
    return (m) => !truthy(inner(m));
  }

  private comparison(): Node {
    const left = this.primary();
    const t = this.peek();
    if (t.kind !== 'cmp') return left;
    this.next();
    const op = t.text as Comparator;
    if (!COMPARATORS.includes(op)) throw filterError(t.at, `unknown comparator ${t.text}`);
    const right = this.primary();
    if (this.peek().kind === 'cmp')
      throw filterError(this.peek().at, 'comparisons cannot be chained; use && and parentheses');
    return (m) => compare(op, left(m), right(m));
  }

  private primary(): Node {
    const t = this.next();
    if (t.kind === 'lparen') {
      const inner = this.nested(t.at, () => this.or());
      const close = this.next();
      if (close.kind !== 'rparen') throw filterError(close.at, `expected ")" but found ${this.describe(close)}`);
      return inner;
    }
    if (t.kind === 'literal') {
      const value = t.value ?? null;
      return () => value;
    }
    if (t.kind === 'ident') return this.field(t);
    throw filterError(t.at, `expected a field, a literal or "(" but found ${this.describe(t)}`);
  }

  private field(root: Token): Node {
    const name = root.text!;
    if (!ROOTS.has(name))
      throw filterError(root.at, `unknown field "${name}"; filters can use name, clientId and headers.<name>`);
    const path: string[] = [];
    while (this.peek().kind === 'dot') {
      this.next();
      const t = this.next();
      if (t.kind !== 'ident') throw filterError(t.at, `expected a field name after "." but found ${this.describe(t)}`);
      path.push(t.text!);
    }
    const get: Node = name === 'headers' ? headersOf : name === 'name' ? (m) => m.name : (m) => m.clientId;
    if (path.length === 0) return get;
    return (m) => {
      let v = get(m);
      for (const key of path) {
        if (
          v === null ||
          v === undefined ||
          typeof v !== 'object' ||
          Array.isArray(v) ||
          !Object.prototype.hasOwnProperty.call(v, key)
        )
          return null;
        v = (v as Record<string, Json>)[key];
      }
      return v;
    };
  }
}

/** Compiles a filter expression; throws 40010 for one that cannot be used. */
export function compileFilter(expression: string): MessageFilter {
  if (expression.length > MAX_FILTER_LENGTH)
    throw filterError(MAX_FILTER_LENGTH, `longer than ${MAX_FILTER_LENGTH} characters`);
  if (expression.trim() === '') throw filterError(0, 'empty expression');
  const node = new Parser(tokenize(expression)).parse();
  return (msg) => truthy(node(msg));
}
