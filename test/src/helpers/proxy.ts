/**
 * A TCP proxy in front of a test server, to cut a client's connections the way a network failure
 * does: the sockets go, with no CLOSE or DISCONNECT from the client first.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly sockets: Set<Socket>,
  ) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    const sockets = new Set<Socket>();
    const server = createServer((client) => {
      const upstream = connect(targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    return new TcpProxy(server, address.port, sockets);
  }

  /** Connections currently open through the proxy (client side and server side each count). */
  get openSockets(): number {
    return this.sockets.size;
  }

  /** Cuts every connection through the proxy at once. */
  cutAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
