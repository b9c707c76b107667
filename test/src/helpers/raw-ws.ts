/**
 * A protocol-level WebSocket client for tests that must send what no SDK would: malformed frames,
 * wrong types, unknown actions. Frames are decoded with the protocol package's codecs.
 */
import { Action, decodeFrame, encodeProtocolMessage, type Format, type ProtocolMessage } from '@encke/protocol';
import WebSocket from 'ws';
import { Inbox } from './inbox.js';
import { messageOf } from './json.js';

export class RawClient extends Inbox {
  closeCode: number | undefined;

  private constructor(
    readonly ws: WebSocket,
    readonly format: Format,
  ) {
    super();
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const frame = isBinary ? new Uint8Array(data) : data.toString('utf8');
      // One ProtocolMessage per frame; anything else fails the test (jsonMessage's check).
      this.push(
        messageOf(
          decodeFrame(this.format === 'json' && isBinary ? Buffer.from(data).toString('utf8') : frame, this.format),
        ),
      );
    });
    ws.on('close', (code: number) => {
      this.closeCode = code;
      this.markClosed();
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
    const client = await RawClient.open(
      port,
      `key=${encodeURIComponent(key)}&format=${format}&heartbeats=true&v=6${extra}`,
      format,
    );
    await client.next(Action.CONNECTED);
    return client;
  }

  send(pm: ProtocolMessage): void {
    const payload = encodeProtocolMessage(pm, this.format);
    this.ws.send(payload, { binary: this.format === 'msgpack' });
  }

  sendRaw(data: string | Buffer, binary: boolean): void {
    this.ws.send(data, { binary });
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

/** The data of the messages `client` receives on `channel` until it has `count` of them. */
export async function receivedData(client: RawClient, channel: string, count: number): Promise<unknown[]> {
  const data: unknown[] = [];
  while (data.length < count) {
    const pm = await client.next(Action.MESSAGE, 5000, (m) => m.channel === channel);
    for (const m of pm.messages ?? []) data.push(m.data);
  }
  return data;
}
