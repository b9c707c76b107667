/**
 * Records every socket write made in this process (tests whose server runs in the process), as
 * bytes, by socket: what the server wrote to one raw client is read back with `to`.
 */
import { Socket } from 'node:net';

/** Every socket write the server makes meanwhile (the server runs in this process), as bytes, by socket. */
export class SocketWriteSpy {
  readonly writes: { socket: Socket; bytes: Buffer }[] = [];
  private readonly original = Socket.prototype.write;

  constructor() {
    const { writes, original } = this;
    type Done = (err?: Error | null) => void;
    const spied = function (this: Socket, data: string | Uint8Array, encoding?: BufferEncoding | Done, cb?: Done) {
      writes.push({ socket: this, bytes: typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data) });
      // Writable's (chunk, cb) form as (chunk, undefined, cb): the one overload `call` sees.
      if (typeof encoding === 'function') return original.call(this, data, undefined, encoding);
      return original.call(this, data, encoding, cb);
    };
    Socket.prototype.write = spied;
  }

  /** What the server wrote to the peer of `client` (a socket of this process's raw client). */
  to(client: Socket): Buffer[] {
    return this.writes
      .filter(({ socket }) => socket !== client && socket.remotePort === client.localPort)
      .map(({ bytes }) => bytes);
  }

  restore(): void {
    Socket.prototype.write = this.original;
  }
}
