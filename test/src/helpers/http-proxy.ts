/**
 * An HTTP proxy in front of the test server that misbehaves the way real middleboxes do: it
 * refuses WebSocket upgrades with 403 (a proxy that does not speak WebSocket) and, if asked,
 * buffers streamed responses (comet streaming, SSE, multipart, iframe) until they end, as a
 * buffering proxy does. Everything else passes through unchanged, headers included (CORS works).
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpProxyOptions {
  /** Hold the body of every streamed comet recv until the server ends it. */
  bufferStreams?: boolean;
}

/** Whether a comet request is a held, streamed recv (not long-polling, not plain polling, not JSONP). */
export function isStreamedRecv(url: string): boolean {
  const u = new URL(url, 'http://x');
  if (!/^\/comet\/(connect|[^/]+\/recv)$/.test(u.pathname)) return false;
  const q = u.searchParams;
  return q.get('stream') !== 'false' && q.get('wait') !== '0' && q.get('envelope') !== 'jsonp';
}

export class HttpProxy {
  port = 0;
  /** Streamed recvs held so far. */
  buffered = 0;
  /** Upgrades refused so far. */
  refused = 0;

  private constructor(
    private readonly server: Server,
    private readonly upstreamPort: number,
    private readonly options: HttpProxyOptions,
  ) {}

  static async start(upstreamPort: number, options: HttpProxyOptions): Promise<HttpProxy> {
    const server = createServer();
    const proxy = new HttpProxy(server, upstreamPort, options);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => proxy.forward(req, res));
    server.on('upgrade', (_req, socket) => {
      proxy.refused++;
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy.port = (server.address() as AddressInfo).port;
    return proxy;
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const headers = { ...req.headers, host: `127.0.0.1:${this.upstreamPort}` };
    const upstream = request(
      { host: '127.0.0.1', port: this.upstreamPort, method: req.method, path: req.url, headers },
      (up) => {
        const hold = this.options.bufferStreams === true && isStreamedRecv(req.url ?? '');
        if (!hold) {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          return;
        }
        this.buffered++;
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          const body = Buffer.concat(chunks);
          const rest = { ...up.headers };
          delete rest['transfer-encoding'];
          res.writeHead(up.statusCode ?? 502, { ...rest, 'content-length': String(body.length) });
          res.end(body);
        });
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
