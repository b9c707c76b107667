/**
 * The client of the bare `ws` reference server: text frames `s:<channel>` (answered `ok:<channel>`)
 * and `p:<channel>:<payload>`; deliveries are the bare payload, one frame per message.
 */
import {
  STEP_TIMEOUT_MS,
  publisherOn,
  waiter,
  type BenchClient,
  type ClientContext,
  type Conn,
  type Pub,
} from './client.js';
import { RawWs } from './raw-ws.js';

export class BareWsClient implements BenchClient {
  constructor(private readonly ctx: ClientContext) {}

  async subscribe(channels: readonly string[]): Promise<Conn> {
    const { ctx } = this;
    const acked = waiter();
    let awaiting = channels.length;
    let live = false;
    const ws = await RawWs.connect(ctx.port, '/', {
      onMessage(payload) {
        if (ctx.sink.scan(payload) > 0) return;
        if (payload.toString('latin1', 0, 3) === 'ok:' && --awaiting === 0) acked.resolve();
      },
      onClose() {
        acked.reject(new Error('bare ws: connection closed'));
        if (live) ctx.lost();
      },
    });
    for (const channel of channels) ws.sendText(`s:${channel}`);
    await acked.within(STEP_TIMEOUT_MS, 'bare ws subscribe');
    live = true;
    return ws;
  }

  async publisher(): Promise<Pub> {
    const ws = await RawWs.connect(this.ctx.port, '/', { onMessage() {}, onClose() {} });
    ws.stampOnSend();
    return publisherOn(ws, (channel, payload) => ws.sendText(`p:${channel}:${payload}`));
  }
}
