/**
 * Names and text that are echoed into JavaScript or HTML (JSONP callbacks, the forever-iframe's
 * callback and target origin): strictly validated, never escaped into shape.
 */
import { AblyError, Err } from '@encke/protocol';

/** Longest callback name accepted. */
export const MAX_CALLBACK_LENGTH = 128;

/**
 * A dotted JavaScript identifier path, optionally called with one integer: `cb`, `app.cb`,
 * `_ablyjs_jsonp._(12)` (ably-js 1.x). Nothing else: no brackets, quotes, spaces or operators.
 */
const CALLBACK_RE = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*(?:\(\d{1,9}\))?$/;

/** The `callback` param, validated; 40003 when it is anything but a plain function reference. */
export function parseCallback(value: string | null): string {
  if (value === null || value === '')
    throw new AblyError(Err.invalidParameterValue, 'A callback parameter is required');
  if (value.length > MAX_CALLBACK_LENGTH || !CALLBACK_RE.test(value)) {
    throw new AblyError(
      Err.invalidParameterValue,
      `Invalid callback ${JSON.stringify(value.slice(0, 40))}: expected a JavaScript function name such as "app.onMessages"`,
    );
  }
  return value;
}

/** A callback name if the request carries a valid one; undefined otherwise (never throws). */
export function validCallback(value: string | null): string | undefined {
  return value !== null && value.length <= MAX_CALLBACK_LENGTH && CALLBACK_RE.test(value) ? value : undefined;
}

const ORIGIN_RE = /^https?:\/\/(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** A web origin (`https://app.example.com:8443`), validated; 40003 otherwise. `*` is refused. */
export function parseOrigin(value: string | null): string {
  if (value === null || value.length > 256 || !ORIGIN_RE.test(value)) {
    throw new AblyError(
      Err.invalidParameterValue,
      `Invalid origin ${JSON.stringify((value ?? '').slice(0, 40))}: expected scheme://host[:port]`,
    );
  }
  return value;
}

const UNSAFE_IN_SCRIPT = /[<\u2028\u2029]/;

/**
 * JSON text made safe inside a `<script>` element or a JS source: `<` (so no `</script>` or
 * `<!--` can end or change the element) and the JS line separators are escaped. Still valid JSON.
 */
export function scriptSafeJson(json: string): string {
  if (!UNSAFE_IN_SCRIPT.test(json)) return json;
  return json
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
