/**
 * HTTP answers shared by REST and comet. Error bodies are `{"error": ErrorInfo}` with
 * `Content-Type` exactly `application/json` (ably-js on Node ignores the body otherwise) and the
 * `X-Ably-ErrorCode` / `X-Ably-ErrorMessage` headers (browsers read the body only when they exist).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AblyError } from '@encke/protocol';

const EXPOSED_HEADERS = 'Link, X-Ably-ErrorCode, X-Ably-ErrorMessage, X-Ably-ServerId, X-Encke-Position';
const ALLOWED_HEADERS = 'authorization, content-type, accept, x-ably-version, ably-agent, x-ably-clientid, x-ably-lib';
const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';

/** Header values are latin1 without control characters; error messages may hold anything. */
export function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 512);
}

/** Credentialed CORS (ably-js sets withCredentials when it sends Authorization): echo the Origin. */
export function applyCors(req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin;
  if (!origin) return;
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Allow-Credentials', 'true');
  res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
  res.setHeader('Vary', 'Origin');
}

export function answerPreflight(req: IncomingMessage, res: ServerResponse): void {
  applyCors(req, res);
  res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
  res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] ?? ALLOWED_HEADERS);
  res.setHeader('Access-Control-Max-Age', '86400');
  res.writeHead(204).end();
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): void {
  const e = AblyError.from(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(
    res,
    e.statusCode,
    { error: e.toErrorInfo() },
    {
      'X-Ably-ErrorCode': String(e.code),
      'X-Ably-ErrorMessage': headerSafe(e.message),
    },
  );
}
