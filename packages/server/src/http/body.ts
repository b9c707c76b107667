/**
 * Request bodies: read with a size limit, decoded by Content-Type; responses encoded by Accept
 * (ably-js on Node decodes success bodies with its own format and ignores Content-Type).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AblyError,
  Err,
  decodeJson,
  decodeLimits,
  decodeMsgpack,
  encodeMsgpackValue,
  type Format,
} from '@encke/protocol';

export const JSON_TYPE = 'application/json';
export const MSGPACK_TYPE = 'application/x-msgpack';

/**
 * A body the client stopped sending (it closed or reset the connection): the client's doing, not
 * a server error, so it is a 400 and never logged as a failure. Nobody is left to read the answer.
 */
export class ClientAbortError extends AblyError {
  constructor() {
    super(Err.badRequest, 'Request aborted by the client before its body was complete');
  }
}

function clientAborted(): ClientAbortError {
  return new ClientAbortError();
}

/** Reads the whole body; 40009 (413) past `maxBytes`, without buffering more than that. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    return Promise.reject(
      new AblyError(Err.requestTooLarge, `Request body of ${declared} bytes exceeds the limit of ${maxBytes}`),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.removeAllListeners('data');
        req.resume();
        reject(new AblyError(Err.requestTooLarge, `Request body exceeds the limit of ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', () => reject(clientAborted()));
    req.on('close', () => {
      if (!req.complete) reject(clientAborted());
    });
  });
}

/**
 * The format of the request body, from Content-Type; JSON when absent or `text/plain` unless
 * `strict`. 40000 (415) for others.
 */
export function requestFormat(req: IncomingMessage, strict = false): Format {
  const header = req.headers['content-type'];
  const type = (header ?? (strict ? '' : JSON_TYPE)).split(';')[0]!.trim().toLowerCase();
  if (type === JSON_TYPE || (!strict && (type === 'text/plain' || type === ''))) return 'json';
  if (type === MSGPACK_TYPE) return 'msgpack';
  throw new AblyError(
    Err.unsupportedMediaType,
    `Unsupported Content-Type ${JSON.stringify(type)}: use ${JSON_TYPE} or ${MSGPACK_TYPE}`,
  );
}

/** The format the client wants back, from Accept; JSON unless msgpack is asked for. */
export function responseFormat(req: IncomingMessage): Format {
  const accept = req.headers.accept ?? '';
  return accept.includes(MSGPACK_TYPE) ? 'msgpack' : 'json';
}

/** Decodes a body read within `maxBytes`, with the decoders' depth and length bounds. */
export function decodeBody(body: Buffer, format: Format, maxBytes: number): unknown {
  if (body.length === 0) throw new AblyError(Err.invalidRequestBody, 'Empty request body');
  const limits = decodeLimits(maxBytes);
  return format === 'json' ? decodeJson(body.toString('utf8'), limits) : decodeMsgpack(body, limits);
}

/** Sends `value` as JSON or msgpack; the value must already be in wire form for `format`. */
export function sendBody(
  res: ServerResponse,
  status: number,
  value: unknown,
  format: Format,
  headers: Record<string, string> = {},
): void {
  const payload = format === 'json' ? Buffer.from(JSON.stringify(value)) : Buffer.from(encodeMsgpackValue(value));
  res.writeHead(status, {
    'Content-Type': format === 'json' ? JSON_TYPE : MSGPACK_TYPE,
    'Content-Length': payload.length,
    ...headers,
  });
  res.end(payload);
}
