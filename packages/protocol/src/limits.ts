/**
 * Bounds every decoder runs with, checked before anything is built from untrusted bytes.
 *
 * - msgpack: a pass over the headers (no allocation) checks nesting depth, container lengths and
 *   string/binary/ext lengths, and that every length fits in the bytes that remain. A header that
 *   announces 65,535 elements (`dc ff ff`) needs at least that many bytes behind it, so the
 *   decoder's pre-allocation can never exceed a small multiple of the input.
 * - JSON: a pass over the text checks nesting depth, container lengths and string lengths
 *   (`JSON.parse` itself does not pre-allocate, but what it builds must stay shallow enough for
 *   every recursive consumer: encoders, `JSON.stringify`, validation).
 *
 * Breaking a size bound is 40009; nesting too deep, or bytes that cannot be msgpack, 40000.
 */
import { AblyError, Err } from './errors.js';

export interface DecodeLimits {
  /** Largest input (bytes; UTF-16 units for JSON text). */
  readonly maxBytes: number;
  /** Deepest nesting of arrays and maps/objects (the top-level container is depth 1). */
  readonly maxDepth: number;
  /** Most elements of one array, or entries of one map/object. */
  readonly maxContainerLength: number;
  /** Longest string (bytes for msgpack, characters for JSON), binary or ext payload. */
  readonly maxStringLength: number;
}

/** Deepest nesting any decoder accepts: a ProtocolMessage's own levels plus {@link MAX_EXTRAS_DEPTH} fit well within. */
export const MAX_DECODE_DEPTH = 64;
/** Most elements of one array or entries of one map any decoder accepts. */
export const MAX_CONTAINER_LENGTH = 65_536;

const limitsBySize = new Map<number, DecodeLimits>();
/** Distinct sizes remembered (a server has a handful: frame, comet body, REST body, token body). */
const LIMITS_CACHED = 16;

/** The bounds for input of at most `maxBytes` (one frozen object per size, made once). */
export function decodeLimits(maxBytes: number): DecodeLimits {
  let limits = limitsBySize.get(maxBytes);
  if (!limits) {
    limits = Object.freeze({
      maxBytes,
      maxDepth: MAX_DECODE_DEPTH,
      maxContainerLength: MAX_CONTAINER_LENGTH,
      maxStringLength: maxBytes,
    });
    if (limitsBySize.size >= LIMITS_CACHED) limitsBySize.clear();
    limitsBySize.set(maxBytes, limits);
  }
  return limits;
}

/** Defaults for callers that give no bound of their own: 16 MiB. */
export const DEFAULT_DECODE_LIMITS: DecodeLimits = decodeLimits(16 * 1024 * 1024);

function tooDeep(limits: DecodeLimits): never {
  throw new AblyError(Err.badRequest, `Input nested deeper than ${limits.maxDepth} levels`);
}

function tooLong(what: string, length: number, max: number): never {
  throw new AblyError(Err.maxMessageSizeExceeded, `Input holds ${what} of ${length} (at most ${max})`);
}

function malformed(message: string): never {
  throw new AblyError(Err.badRequest, `Malformed msgpack: ${message}`);
}

export function checkSize(length: number, limits: DecodeLimits): void {
  if (length > limits.maxBytes)
    throw new AblyError(Err.maxMessageSizeExceeded, `Input of ${length} bytes exceeds the limit of ${limits.maxBytes}`);
}

/** Byte lengths of the fixed-size msgpack values by head byte (0 = not fixed-size). */
const FIXED_SIZE = new Uint8Array(256);
for (let b = 0; b <= 0x7f; b++) FIXED_SIZE[b] = 1;
for (let b = 0xe0; b <= 0xff; b++) FIXED_SIZE[b] = 1;
for (const [b, n] of [
  [0xc0, 1],
  [0xc2, 1],
  [0xc3, 1],
  [0xca, 5],
  [0xcb, 9],
  [0xcc, 2],
  [0xcd, 3],
  [0xce, 5],
  [0xcf, 9],
  [0xd0, 2],
  [0xd1, 3],
  [0xd2, 5],
  [0xd3, 9],
  [0xd4, 3],
  [0xd5, 4],
  [0xd6, 6],
  [0xd7, 10],
  [0xd8, 18],
] as const)
  FIXED_SIZE[b] = n;

/** Reads a big-endian unsigned length of `width` bytes at `pos`; malformed past the end. */
function readLength(bytes: Uint8Array, pos: number, width: number): number {
  if (pos + width > bytes.length) malformed('truncated length');
  let n = 0;
  for (let i = 0; i < width; i++) n = n * 256 + bytes[pos + i]!;
  return n;
}

/** Width of the length field of str/bin/ext heads, and of array/map heads, by head byte. */
function lengthWidth(b: number): number {
  switch (b) {
    case 0xc4:
    case 0xc7:
    case 0xd9:
      return 1;
    case 0xc5:
    case 0xc8:
    case 0xda:
    case 0xdc:
    case 0xde:
      return 2;
    case 0xc6:
    case 0xc9:
    case 0xdb:
    case 0xdd:
    case 0xdf:
      return 4;
    default:
      return 0;
  }
}

/**
 * A count per nesting level for one check, reused: every publish is checked, and a fresh array of
 * `maxDepth + 1` numbers was most of its decoding's garbage. Checks are synchronous and never
 * re-entered, and each writes a level's count when that level opens, so nothing is cleared between them.
 */
let levelScratch: number[] = [];

function scratchFor(limits: DecodeLimits): number[] {
  if (levelScratch.length <= limits.maxDepth) levelScratch = new Array<number>(limits.maxDepth + 1).fill(0);
  return levelScratch;
}

/**
 * Checks the structure of one msgpack value against `limits` without building anything; throws
 * 40000/40009. Anything it lets through decodes within a small multiple of its size.
 */
export function checkMsgpack(bytes: Uint8Array, limits: DecodeLimits): void {
  checkSize(bytes.length, limits);
  const n = bytes.length;
  // remaining[d]: values still to read in the container open at depth d (d = 0: the top level).
  const remaining = scratchFor(limits);
  remaining[0] = 1;
  let depth = 0;
  let pos = 0;
  for (;;) {
    while (remaining[depth] === 0) {
      if (depth === 0) {
        if (pos !== n) malformed(`${n - pos} extra bytes after the value`);
        return;
      }
      depth--;
    }
    remaining[depth]!--;
    if (pos >= n) malformed('truncated');
    const b = bytes[pos]!;
    const fixed = FIXED_SIZE[b]!;
    if (fixed > 0) {
      pos += fixed;
      if (pos > n) malformed('truncated');
      continue;
    }
    let count = -1; // elements of a container, or -1 for a str/bin/ext
    let payload = 0;
    if (b >= 0x80 && b <= 0x8f) {
      count = (b & 0x0f) * 2;
      pos += 1;
    } else if (b >= 0x90 && b <= 0x9f) {
      count = b & 0x0f;
      pos += 1;
    } else if (b >= 0xa0 && b <= 0xbf) {
      payload = b & 0x1f;
      pos += 1;
    } else {
      const width = lengthWidth(b);
      if (width === 0) malformed(`invalid head byte 0x${b.toString(16)}`);
      const length = readLength(bytes, pos + 1, width);
      pos += 1 + width;
      if (b >= 0xdc) {
        count = b >= 0xde ? length * 2 : length;
      } else {
        if (length > limits.maxStringLength) tooLong('a string or binary of bytes', length, limits.maxStringLength);
        // ext: one type byte before the payload
        payload = b === 0xc7 || b === 0xc8 || b === 0xc9 ? length + 1 : length;
      }
    }
    if (count < 0) {
      pos += payload;
      if (pos > n) malformed('truncated string or binary');
      continue;
    }
    if (depth + 1 > limits.maxDepth) tooDeep(limits);
    const entries = b <= 0x8f || b >= 0xde ? count / 2 : count; // maps hold two values per entry
    if (entries > limits.maxContainerLength) tooLong('a container of entries', entries, limits.maxContainerLength);
    // Every element takes at least one byte: a length the input cannot hold is a lie.
    if (count > n - pos) malformed(`a container announces ${count} values but ${n - pos} bytes remain`);
    if (count > 0) remaining[++depth] = count;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COMMA = 0x2c;

/** Whether the quote at `j` is escaped (an odd run of backslashes before it). */
function escaped(text: string, j: number): boolean {
  let k = j - 1;
  while (k >= 0 && text.charCodeAt(k) === BACKSLASH) k--;
  return (j - 1 - k) % 2 === 1;
}

/**
 * Checks JSON text against `limits` before it is parsed; throws 40000/40009. Malformed text is left
 * for `JSON.parse` to report. Text too short to break a bound is not scanned at all.
 */
export function checkJson(text: string, limits: DecodeLimits): void {
  const n = text.length;
  checkSize(n, limits);
  if (n <= limits.maxDepth && n <= limits.maxContainerLength && n <= limits.maxStringLength) return;
  // commas[d]: entries so far in the container open at depth d (set when it opens).
  const commas = scratchFor(limits);
  let depth = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let j = i;
      do {
        j = text.indexOf('"', j + 1);
        if (j < 0) return; // unterminated: JSON.parse says so
      } while (escaped(text, j));
      if (j - i - 1 > limits.maxStringLength) tooLong('a string of characters', j - i - 1, limits.maxStringLength);
      i = j;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > limits.maxDepth) tooDeep(limits);
      commas[depth] = 0;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      if (--depth < 0) return;
    } else if (c === COMMA && depth > 0) {
      if (++commas[depth]! >= limits.maxContainerLength)
        tooLong('a container of entries', commas[depth]! + 1, limits.maxContainerLength);
    }
  }
}
