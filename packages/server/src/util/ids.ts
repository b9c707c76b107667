import { randomBytes } from 'node:crypto';

/**
 * Random URL-safe identifiers ([A-Za-z0-9_-]). Connection keys appear unescaped in comet URL paths,
 * and connection ids prefix message ids (`connectionId:msgSerial:index`), so neither may contain
 * `:`, `/` or `!` beyond the key separator.
 */
export function randomId(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/** Random id of `[A-Za-z0-9]` only, for ids that other code splits on `-` or `_` (sync ids, epochs). */
export function randomAlnum(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[bytes[i]! % alphabet.length];
  return out;
}
