/**
 * A protocol-level WebSocket client for tests that must send what no SDK would: malformed frames,
 * wrong types, unknown actions. Frames are decoded with the protocol package's codecs.
 */
import { Action, decodeFrame, encodeProtocolMessage, actionName, type Format, type ProtocolMessage } from '@encke/protocol';
import WebSocket from 'ws';

export class RawClient {
  readonly received: ProtocolMessage[] = [];
  /** Everything received, in order, never consumed. */
  readonly log: ProtocolMessage[] = [];
  closed = false;
  closeCode: number | undefined;
  private waiters: (() => void)[] = [];

  private constructor(
    readonly ws: WebSocket,
    readonly format: Format,
  ) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const frame = isBinary ? new Uint8Array(data) : data.toString('utf8');
      const pm = decodeFrame(this.format === 'json' && isBinary ? Buffer.from(data).toString('utf8') : frame, this.format) as ProtocolMessage;
      this.received.push(pm);
      this.log.push(pm);
      this.wake();
    });
    ws.on('close', (code: number) => {
      this.closed = true;
      this.closeCode = code;
      this.wake();
    });
    ws.on('error', () => {});
  }

  /** Opens a WebSocket with `query` (a full query string without `?`). */
  static open(port: number, query: string, format: Format = 'json'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/?${query}`);
      const client = new RawClient(ws, format);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  /** Opens and waits for CONNECTED. */
  static async connect(port: number, key: string, format: Format = 'json', extra = ''): Promise<RawClient> {
    const client = await RawClient.open(port, `key=${encodeURIComponent(key)}&format=${format}&heartbeats=true&v=6${extra}`, format);
    await client.next(Action.CONNECTED);
    return client;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  send(pm: ProtocolMessage): void {
    const payload = encodeProtocolMessage(pm, this.format);
    this.ws.send(payload, { binary: this.format === 'msgpack' });
  }

  sendRaw(data: string | Buffer, binary: boolean): void {
    this.ws.send(data, { binary });
  }

  /** Waits for the next message with `action` (consuming it and everything before it). */
  async next(action: number, timeoutMs = 5000, filter: (pm: ProtocolMessage) => boolean = () => true): Promise<ProtocolMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.received.findIndex((pm) => pm.action === action && filter(pm));
      if (i >= 0) return this.received.splice(0, i + 1)[i]!;
      if (this.closed) throw new Error(`socket closed while waiting for ${actionName(action)}; got ${JSON.stringify(this.received)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${actionName(action)} within ${timeoutMs} ms; got ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Resolves when the server has closed the socket. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('socket not closed');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Closes like the SDK does: CLOSE, then the socket (the server forgets the connection). */
  close(): void {
    if (this.ws.readyState === WebSocket.OPEN) this.send({ action: Action.CLOSE });
    this.ws.close();
  }

  /** Drops the socket without CLOSE (the server keeps the connection for a resume). */
  drop(): void {
    this.ws.terminate();
  }
}
