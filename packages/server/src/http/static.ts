/**
 * A small set of static files (a built web app: the chat demo, the admin dashboard), read once
 * from one directory when the node is made and served from memory. Only the files that were there
 * are served, by exact name: no paths, no directory walking, nothing read per request. Each answer
 * carries its type, an ETag, `no-cache` (revalidate: a rebuild changes the files) and the security
 * headers a page needs (a strict Content-Security-Policy for HTML).
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';

/** Most files and bytes one site may hold: a built app is a handful of small files. */
export const MAX_SITE_FILES = 256;
export const MAX_SITE_BYTES = 8 * 1024 * 1024;

/** File names a site may serve: plain names with a known extension. */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
};

/**
 * Pages load only their own scripts, styles and images, talk only to their own origin (WebSocket,
 * comet, token endpoints), may frame only their own origin (the forever-iframe transport) and may
 * not be framed by anyone (clickjacking).
 */
export const PAGE_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

interface StaticFile {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

export class StaticSite {
  private constructor(
    /** The directory the files were read from. */
    readonly dir: string,
    private readonly files: ReadonlyMap<string, StaticFile>,
  ) {}

  /** Reads the servable files of `dir`; throws an Error saying what is wrong (missing, too big). */
  static load(dir: string): StaticSite {
    const files = new Map<string, StaticFile>();
    let bytes = 0;
    for (const name of readdirSync(dir)) {
      const type = TYPES[extname(name)];
      if (!type || !FILE_NAME.test(name) || !statSync(join(dir, name)).isFile()) continue;
      if (files.size === MAX_SITE_FILES) throw new Error(`${dir} holds more than ${MAX_SITE_FILES} files`);
      const body = readFileSync(join(dir, name));
      bytes += body.length;
      if (bytes > MAX_SITE_BYTES) throw new Error(`${dir} holds more than ${MAX_SITE_BYTES} bytes`);
      files.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
    }
    return new StaticSite(dir, files);
  }

  has(name: string): boolean {
    return this.files.has(name);
  }

  /** Answers `name` (200, or 304 when the client has it); false when there is no such file. */
  serve(req: IncomingMessage, res: ServerResponse, name: string, status = 200): boolean {
    const file = this.files.get(name);
    if (!file) return false;
    const headers: Record<string, string | number> = {
      'Content-Type': file.type,
      'Cache-Control': 'no-cache',
      ETag: file.etag,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    };
    if (file.type.startsWith('text/html')) {
      headers['Content-Security-Policy'] = PAGE_POLICY;
      headers['X-Frame-Options'] = 'DENY';
    }
    if (status === 200 && req.headers['if-none-match'] === file.etag) {
      res.writeHead(304, headers).end();
      return true;
    }
    res.writeHead(status, { ...headers, 'Content-Length': file.body.length });
    res.end(req.method === 'HEAD' ? undefined : file.body);
    return true;
  }
}

/** Loads a site, or says why it cannot be served (the node answers 503 with that reason). */
export function loadSite(dir: string): StaticSite | string {
  try {
    const site = StaticSite.load(dir);
    return site.has('index.html') ? site : `${dir} has no index.html`;
  } catch (err) {
    return (err as Error).message;
  }
}
