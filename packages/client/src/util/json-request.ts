/** A REST request whose JSON answer is returned: used by the modules loaded on demand (history, tokens, time). */
import type { ParseJson } from './unknown.js';
import type { Kit } from '../kit.js';
import type { HttpContext, HttpRequest } from './http.js';

/** HTTP errors reject with their ErrorInfo; a body that is not JSON is a 50000. */
export async function getJson(
  kit: Kit,
  ctx: HttpContext,
  url: string,
  req: HttpRequest,
): Promise<{ body: unknown; headers: Headers }> {
  const res = await kit.send(ctx, url, req);
  const text = await res.text();
  if (!res.ok) throw kit.errorOf(res, text);
  try {
    return { body: text === '' ? undefined : (JSON.parse as ParseJson)(text), headers: res.headers };
  } catch {
    throw kit.ErrorInfo.of(kit.Err.internal, 'Malformed JSON response');
  }
}
