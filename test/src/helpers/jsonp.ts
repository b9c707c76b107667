/**
 * Script-tag (JSONP) requests as a browser makes them: a plain GET whose answer is run as a script.
 * The answer is run in a fresh `vm` context where the callbacks the tests use exist (`cb`,
 * `app.on`, ably-js 1.x's `_ablyjs_jsonp._(n)`), and what it was called with is returned.
 */
import { isArrayValue, isPlainObject } from '@encke/protocol';
import { request, type IncomingHttpHeaders } from 'node:http';
import { runInNewContext, type RunningScriptInNewContextOptions } from 'node:vm';
import type { ProtocolMessage } from '@encke/protocol';
import { isErrorFields, isWireMessage, jsonAs, type ErrorFields } from './json.js';

/** What the server passes to the callback. */
export interface JsonpEnvelope {
  statusCode: number;
  response?: ProtocolMessage[] | { error: ErrorFields };
  headers?: Record<string, string>;
}

/** Whether a callback's argument has the envelope's shape: a status, a batch or an error, string headers. */
function isJsonpEnvelope(value: unknown): value is JsonpEnvelope {
  if (!isPlainObject(value) || typeof value.statusCode !== 'number') return false;
  const { response, headers } = value;
  return (
    (response === undefined ||
      (isArrayValue(response) && response.every(isWireMessage)) ||
      (isPlainObject(response) && isErrorFields(response.error))) &&
    (headers === undefined || (isPlainObject(headers) && Object.values(headers).every((h) => typeof h === 'string')))
  );
}

export interface JsonpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The callback's argument, when the answer is a script that called it. */
  envelope: JsonpEnvelope | undefined;
}

/** vm's runInNewContext, typed as what a script's completion value is here: unknown (unused). */
const runScript: (code: string, context: object, options: RunningScriptInNewContextOptions) => unknown =
  runInNewContext;

export function runJsonp(text: string): JsonpEnvelope | undefined {
  let got: unknown;
  const cb = (value: unknown): void => {
    got = value;
  };
  runScript(text, { cb, app: { on: cb }, _ablyjs_jsonp: { _: () => cb } }, { timeout: 1000 });
  // Out of the vm context: plain data again.
  return got === undefined ? undefined : jsonAs(JSON.stringify(got), isJsonpEnvelope, 'a JSONP envelope');
}

export function jsonpRequest(port: number, path: string): Promise<JsonpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        const script = String(res.headers['content-type']).startsWith('application/javascript');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          envelope: script ? runJsonp(text) : undefined,
        });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
