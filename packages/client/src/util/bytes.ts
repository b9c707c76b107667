/** Base64 and UTF-8 without Node's Buffer, so the same code runs in browsers. */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) s += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export const utf8Encode = (s: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(s);
export const utf8Decode = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A random URL-safe id of about `n` characters (base64url of n·3/4 random bytes). */
export function randomId(n = 12): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(Math.ceil((n * 3) / 4)))).replace(/[+/=]/g, (c) =>
    c === '+' ? '-' : c === '/' ? '_' : '',
  );
}
