import { randomFillSync } from 'node:crypto';

/**
 * Random bytes are taken from a pool refilled from the CSPRNG 4 KiB at a time (as Node's own
 * randomUUID does): randomBytes() per id cost ~3 µs, three times per new connection; a pooled take
 * costs ~0.3 µs. The bytes are the same CSPRNG output either way, and no view of the pool is kept.
 */
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;

/** Where `bytes` (at most POOL_SIZE) fresh random bytes start in the pool, refilled first if needed. */
function reserve(bytes: number): number {
  if (poolOffset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const start = poolOffset;
  poolOffset += bytes;
  return start;
}

function take(bytes: number): Buffer {
  if (bytes > POOL_SIZE) return randomFillSync(Buffer.allocUnsafe(bytes));
  const start = reserve(bytes);
  return pool.subarray(start, start + bytes);
}

/**
 * Random URL-safe identifiers ([A-Za-z0-9_-]). Connection keys appear unescaped in comet URL paths,
 * and connection ids prefix message ids (`connectionId:msgSerial:index`), so neither may contain
 * `:`, `/` or `!` beyond the key separator. Encoded straight from the pool (no Buffer made for the
 * bytes: one a connection id, bench S3).
 */
export function randomId(bytes: number): string {
  if (bytes > POOL_SIZE) return take(bytes).toString('base64url');
  const start = reserve(bytes);
  return pool.toString('base64url', start, start + bytes);
}

const ALNUM = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'latin1');
/**
 * The largest multiple of 62 a byte can hold (248): a byte at or above it is drawn again, so that
 * every character is equally likely (with `% 62` of any byte the first 8 would come 5/4 as often).
 */
const UNBIASED_BELOW = 256 - (256 % ALNUM.length);

/**
 * Random id of `[A-Za-z0-9]` only, for ids that other code splits on `-` or `_` (sync ids, epochs).
 * Built as one flat string: `+=` per character leaves a chain of cons strings that every
 * connection secret kept alive (~160 bytes per connection).
 */
export function randomAlnum(length: number): string {
  const out = Buffer.allocUnsafe(length);
  let filled = 0;
  // About 3% of the bytes are drawn again; each round takes only what is still missing.
  while (filled < length) filled = fillAlnum(out, filled, take(length - filled));
  return out.toString('latin1');
}

/**
 * `[A-Za-z0-9]` characters of `out` from `filled` on, made from `bytes` (from `from` to `to`; each equally
 * likely, as in randomAlnum: a byte at or above UNBIASED_BELOW is skipped); returns how many are filled now.
 */
export function fillAlnum(out: Buffer, filled: number, bytes: Uint8Array, from = 0, to = bytes.length): number {
  for (let i = from; i < to && filled < out.length; i++) {
    const b = bytes[i]!;
    if (b < UNBIASED_BELOW) out[filled++] = ALNUM[b % ALNUM.length]!;
  }
  return filled;
}

/** `fillAlnum` from bytes given as latin1 text (one char a byte: a digest made as text, with no Buffer for it). */
export function fillAlnumFromText(out: Buffer, filled: number, bytes: string): number {
  for (let i = 0; i < bytes.length && filled < out.length; i++) {
    const b = bytes.charCodeAt(i);
    if (b < UNBIASED_BELOW) out[filled++] = ALNUM[b % ALNUM.length]!;
  }
  return filled;
}
