/**
 * A TCP proxy between one SDK client and the server, so that a test can kill the client's transport
 * abruptly (both sockets destroyed, as when a network drops), or refuse connections for a while,
 * whatever the transport (WebSocket or comet).
 */
import net from 'node:net';

export class KillableProxy {
  private readonly server: net.Server;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private blocked = false;
  /** How many times connections were killed. */
  kills = 0;
  /** Everything clients sent through the proxy, as latin1 text (to count requests by method). */
  sent = '';
  port = 0;

  private constructor(private readonly upstreamPort: number) {
    this.server = net.createServer((client) => this.onClient(client));
  }

  static async start(upstreamPort: number): Promise<KillableProxy> {
    const proxy = new KillableProxy(upstreamPort);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.server.address() as net.AddressInfo).port;
    return proxy;
  }

  private onClient(client: net.Socket): void {
    if (this.blocked) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.upstreamPort, '127.0.0.1');
    const pair: [net.Socket, net.Socket] = [client, upstream];
    this.pairs.add(pair);
    client.on('data', (chunk: Buffer) => (this.sent += chunk.toString('latin1')));
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  }

  /** Number of open client connections through the proxy. */
  get open(): number {
    return this.pairs.size;
  }

  /** Destroys every open connection at once, both ends (the server sees no close handshake). */
  killAll(): void {
    if (this.pairs.size > 0) this.kills++;
    for (const [a, b] of this.pairs) {
      a.resetAndDestroy();
      b.resetAndDestroy();
    }
    this.pairs.clear();
  }

  /** Stops forwarding server → client on open connections (e.g. so that an ACK is never seen). */
  holdDownstream(): void {
    for (const [client, upstream] of this.pairs) {
      upstream.unpipe(client);
      upstream.pause();
    }
  }

  /** Kills everything and refuses new connections until `unblock()`. */
  block(): void {
    this.blocked = true;
    this.killAll();
  }

  unblock(): void {
    this.blocked = false;
  }

  async close(): Promise<void> {
    this.killAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
