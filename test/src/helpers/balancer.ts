/**
 * A round-robin load balancer in front of several nodes, with no stickiness: in `tcp` mode every new
 * TCP connection goes to the next node (WebSocket connections, and reconnects after a kill), in
 * `http` mode every HTTP request does (each comet recv and send may land on a different node).
 * An upstream that refuses is skipped. Connections can be killed abruptly.
 */
import http from 'node:http';
import net from 'node:net';

export class Balancer {
  private readonly server: net.Server | http.Server;
  private readonly sockets = new Set<net.Socket>();
  /** Open TCP-mode connections: client side, node side. */
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private next = 0;
  port = 0;
  /** Which upstream each accepted connection or request went to, in order. */
  readonly routed: number[] = [];

  private constructor(
    private upstreams: number[],
    readonly mode: 'tcp' | 'http',
  ) {
    if (mode === 'tcp') {
      this.server = net.createServer((client) => this.pipeTcp(client, Buffer.alloc(0)));
    } else {
      const agent = new http.Agent({ keepAlive: false });
      this.server = http.createServer((req, res) => this.forward(req, res, agent));
      this.server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
        const raw = `${req.method} ${req.url} HTTP/1.1\r\n${Object.entries(req.headers)
          .map(([k, v]) => `${k}: ${String(v)}`)
          .join('\r\n')}\r\n\r\n`;
        this.pipeTcp(socket, Buffer.concat([Buffer.from(raw), head]));
      });
    }
    this.server.on('connection', (s: net.Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(upstreams: number[], mode: 'tcp' | 'http'): Promise<Balancer> {
    const b = new Balancer(upstreams, mode);
    await new Promise<void>((resolve) => b.server.listen(0, '127.0.0.1', resolve));
    b.port = (b.server.address() as net.AddressInfo).port;
    return b;
  }

  setUpstreams(ports: number[]): void {
    this.upstreams = ports;
  }

  private pick(): number {
    const port = this.upstreams[this.next++ % this.upstreams.length]!;
    this.routed.push(port);
    return port;
  }

  private pipeTcp(client: net.Socket, first: Buffer, attempt = 0): void {
    const upstream = net.connect(this.pick(), '127.0.0.1');
    this.sockets.add(upstream);
    let connected = false;
    const pair: [net.Socket, net.Socket] = [client, upstream];
    upstream.once('connect', () => {
      connected = true;
      if (first.length > 0) upstream.write(first);
      client.pipe(upstream);
      upstream.pipe(client);
      this.pairs.add(pair);
    });
    upstream.on('error', () => {
      if (!connected && attempt < this.upstreams.length) return this.pipeTcp(client, first, attempt + 1);
      client.destroy();
    });
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      this.pairs.delete(pair);
      if (connected) client.destroy();
    });
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, agent: http.Agent, attempt = 0): void {
    const port = this.pick();
    const upstream = http.request(
      { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent && attempt < this.upstreams.length && req.method === 'GET')
        return this.forward(req, res, agent, attempt + 1);
      res.destroy();
    });
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  }

  /** Stops forwarding node → client on open TCP connections (e.g. so that an ACK is never seen). */
  holdDownstream(): void {
    for (const [client, upstream] of this.pairs) {
      upstream.unpipe(client);
      upstream.pause();
    }
  }

  /** Cuts every connection through the balancer at once. */
  killAll(): void {
    for (const s of this.sockets) s.resetAndDestroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.killAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
