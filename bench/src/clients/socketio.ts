/**
 * Socket.IO 4 clients at the wire level (engine.io protocol v4, socket.io protocol v5), over
 * WebSocket (one packet per frame) and HTTP long-polling (packets joined by U+001E). The bench
 * server's events: `join` (rooms, acknowledged) and `p` (room, payload) → `m` (payload) to the room.
 */
import { isPlainObject } from '@encke/protocol';
import {
  parseJson,
  PollingClient,
  STEP_TIMEOUT_MS,
  publisherOn,
  waiter,
  type BenchClient,
  type ClientContext,
  type Conn,
  type Pub,
  type Waiter,
} from './client.js';
import { PollLoop } from './raw-http.js';
import { RawWs } from './raw-ws.js';

const EIO = '/socket.io/?EIO=4';
const PING = '2';
const PONG = '3';
const CONNECT = '40';
const SEPARATOR = '\x1e';
const JOIN_ACK_ID = 1;
const TEXT = 'text/plain;charset=UTF-8';

/** Follows the socket.io handshake: open → CONNECT → join ack. */
class SioHandshake {
  readonly open: Waiter = waiter();
  readonly connected: Waiter = waiter();
  readonly joined: Waiter = waiter();
  sid = '';

  /** Handles one engine.io packet; returns a packet to send back, if any. */
  packet(p: string): string | undefined {
    if (p === PING) return PONG;
    if (p.startsWith('0{')) {
      const open = parseJson(p.slice(1));
      if (!isPlainObject(open) || typeof open.sid !== 'string') throw new Error(`engine.io open without a sid: ${p}`);
      this.sid = open.sid;
      this.open.resolve();
    } else if (p.startsWith(CONNECT)) {
      this.connected.resolve();
    } else if (p.startsWith(`43${JOIN_ACK_ID}`)) {
      this.joined.resolve();
    } else if (p.startsWith('44') || p === '1') {
      this.fail(new Error(`socket.io: ${p}`));
    }
    return undefined;
  }

  fail(err: Error): void {
    this.open.reject(err);
    this.connected.reject(err);
    this.joined.reject(err);
  }
}

const joinPacket = (rooms: readonly string[]): string => `42${JOIN_ACK_ID}${JSON.stringify(['join', rooms])}`;

export class SocketIoWsClient implements BenchClient {
  constructor(private readonly ctx: ClientContext) {}

  private async connect(onData: (payload: Buffer) => boolean, hs: SioHandshake, isLive: () => boolean): Promise<RawWs> {
    const { ctx } = this;
    const ws = await RawWs.connect(ctx.port, `${EIO}&transport=websocket`, {
      onMessage(payload) {
        if (onData(payload)) return;
        const reply = hs.packet(payload.toString('utf8'));
        if (reply) ws.sendText(reply);
      },
      onClose() {
        hs.fail(new Error('socket.io: connection closed'));
        if (isLive()) ctx.lost();
      },
    });
    await hs.open.within(STEP_TIMEOUT_MS, 'socket.io open');
    ws.sendText(CONNECT);
    await hs.connected.within(STEP_TIMEOUT_MS, 'socket.io connect');
    return ws;
  }

  async subscribe(channels: readonly string[]): Promise<Conn> {
    const hs = new SioHandshake();
    let live = false;
    const ws = await this.connect(
      (p) => this.ctx.sink.scan(p) > 0,
      hs,
      () => live,
    );
    ws.sendText(joinPacket(channels));
    await hs.joined.within(STEP_TIMEOUT_MS, 'socket.io join');
    live = true;
    return ws;
  }

  async publisher(): Promise<Pub> {
    const ws = await this.connect(
      () => false,
      new SioHandshake(),
      () => false,
    );
    ws.stampOnSend();
    return publisherOn(ws, (room, payload) => ws.sendText(`42${JSON.stringify(['p', room, payload])}`));
  }
}

export class SocketIoPollingClient extends PollingClient {
  async subscribe(channels: readonly string[]): Promise<Conn> {
    const { ctx } = this;
    const hs = new SioHandshake();
    const loop = new PollLoop(ctx.port, ctx.lost);
    const handle = async (path: string, body: Buffer): Promise<void> => {
      if (ctx.sink.scan(body) > 0 && body.indexOf(SEPARATOR + PING) < 0 && body[0] !== PING.charCodeAt(0)) return;
      for (const p of body.toString('utf8').split(SEPARATOR)) {
        const reply = hs.packet(p);
        if (reply) await loop.sender.request('POST', path, reply, TEXT);
      }
    };
    const open = await loop.poller.request('GET', `${EIO}&transport=polling`);
    await handle('', open.body);
    await hs.open.within(STEP_TIMEOUT_MS, 'socket.io polling open');
    const path = `${EIO}&transport=polling&sid=${encodeURIComponent(hs.sid)}`;
    loop.start(
      async () => {
        const res = await loop.poller.request('GET', path);
        if (loop.closed) return;
        if (res.status !== 200)
          throw new Error(`socket.io poll: ${res.status} ${res.body.toString('utf8').slice(0, 200)}`);
        await handle(path, res.body);
      },
      (err) => hs.fail(err),
    );
    await loop.sender.request('POST', path, CONNECT, TEXT);
    await hs.connected.within(STEP_TIMEOUT_MS, 'socket.io polling connect');
    await loop.sender.request('POST', path, joinPacket(channels), TEXT);
    await hs.joined.within(STEP_TIMEOUT_MS, 'socket.io polling join');
    return loop.live((sender) => sender.request('POST', path, '1', TEXT));
  }
}
