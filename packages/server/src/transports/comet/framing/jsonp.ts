/**
 * Script-tag (JSONP) polling, as ably-js 1.x's `jsonp` transport speaks it: every comet request
 * (connect, recv, send, close, disconnect) carries `envelope=jsonp&callback=<name>` and is answered
 * `200 application/javascript` with `<name>({statusCode, response, headers});`. A script element
 * runs nothing from a non-2xx answer, so the real status travels inside the envelope. Sends come
 * as `GET …/send?body=<JSON>` (a script cannot POST).
 */
import type { ServerResponse } from 'node:http';
import { AblyError } from '@encke/protocol';
import { headerSafe } from '../../../http/respond.js';
import type { OutboundFrame } from '../../../wire/frame.js';
import { jsonArray, type Framing, type WholeAnswer } from './framing.js';
import { scriptSafeJson } from './script-safe.js';

export const JSONP_TYPE = 'application/javascript; charset=utf-8';

/** `/**\/` first: a response can never start with bytes another content sniffer acts on. */
function call(
  callback: string,
  statusCode: number,
  responseJson: string,
  headers: Readonly<Record<string, string>>,
): string {
  return `/**/${callback}({"statusCode":${statusCode},"response":${scriptSafeJson(responseJson)},"headers":${scriptSafeJson(JSON.stringify(headers))}});`;
}

export class JsonpFraming implements Framing {
  readonly name = 'jsonp' as const;
  readonly contentType = JSONP_TYPE;
  readonly streams = false;

  constructor(readonly callback: string) {}

  preamble(): string {
    return '';
  }

  batch(frames: readonly OutboundFrame[]): string {
    return scriptSafeJson(jsonArray(frames));
  }

  epilogue(): string {
    return '';
  }

  whole(frames: readonly OutboundFrame[], status: number, headers: Readonly<Record<string, string>>): WholeAnswer {
    return { status: 200, body: call(this.callback, status, jsonArray(frames), headers) };
  }
}

/** Headers of every JSONP answer: never sniffed as anything but script, never cached. */
function writeScript(res: ServerResponse, body: string): void {
  res.writeHead(200, {
    'Content-Type': JSONP_TYPE,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(body);
}

/** A JSONP answer with no content (a send, close or disconnect): `{statusCode: 204}`. */
export function jsonpNoContent(res: ServerResponse, callback: string): void {
  writeScript(res, `/**/${callback}({"statusCode":204});`);
}

/** An error as JSONP: `{statusCode, response: {error}, headers}` (ably-js fails the request with it). */
export function jsonpError(res: ServerResponse, callback: string, err: unknown): void {
  const e = AblyError.from(err);
  const headers = { 'X-Ably-ErrorCode': String(e.code), 'X-Ably-ErrorMessage': headerSafe(e.message) };
  writeScript(res, call(callback, e.statusCode, JSON.stringify({ error: e.toErrorInfo() }), headers));
}

/** Writes a poll's answer. */
export function writeJsonp(res: ServerResponse, answer: WholeAnswer): void {
  writeScript(res, answer.body as string);
}
