/**
 * Faye clients at the wire level (Bayeux 1.0 over WebSocket and HTTP long-polling at `/faye`):
 * handshake, subscribe, and one `/meta/connect` outstanding at all times (sent again whenever the
 * server answers one). Channel `x` is Bayeux channel `/x`.
 */
import { isArrayValue, isPlainObject } from '@encke/protocol';
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

const MOUNT = '/faye';
const META_CONNECT = Buffer.from('/meta/connect');
const UNSUCCESSFUL = Buffer.from('"successful":false');

interface BayeuxMessage {
  channel: string;
  successful?: boolean;
  clientId?: string;
  error?: string;
}

/** A Bayeux reply body: an array of messages, each with a channel (checked, not cast). */
function bayeuxMessages(text: string): BayeuxMessage[] {
  const value = parseJson(text);
  const isMessage = (m: unknown): m is BayeuxMessage => isPlainObject(m) && typeof m.channel === 'string';
  if (!isArrayValue(value) || !value.every(isMessage))
    throw new Error(`faye: not a Bayeux reply: ${text.slice(0, 200)}`);
  return [...value];
}

type ConnectionType = 'websocket' | 'long-polling';

/** Follows one Faye client's meta messages. */
class FayeSession {
  readonly handshaken: Waiter = waiter();
  readonly subscribed: Waiter = waiter();
  clientId = '';
  private awaiting = 0;
  private id = 0;

  constructor(private readonly type: ConnectionType) {}

  handshake(): string {
    return JSON.stringify([
      { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: [this.type], id: String(++this.id) },
    ]);
  }

  subscribe(channels: readonly string[]): string {
    this.awaiting = channels.length;
    if (channels.length === 0) this.subscribed.resolve();
    return JSON.stringify(
      channels.map((c) => ({
        channel: '/meta/subscribe',
        clientId: this.clientId,
        subscription: `/${c}`,
        id: String(++this.id),
      })),
    );
  }

  connect(): string {
    return JSON.stringify([
      { channel: '/meta/connect', clientId: this.clientId, connectionType: this.type, id: String(++this.id) },
    ]);
  }

  publish(channel: string, data: string): string {
    return JSON.stringify([{ channel: `/${channel}`, data, clientId: this.clientId, id: String(++this.id) }]);
  }

  /** Handles meta replies; true when one was a `/meta/connect` reply (send the next connect). */
  handle(body: Buffer): boolean {
    let reconnect = false;
    for (const m of bayeuxMessages(body.toString('utf8'))) {
      if (m.channel === '/meta/handshake') {
        if (!m.successful || !m.clientId) this.fail(new Error(`faye handshake: ${m.error ?? 'refused'}`));
        this.clientId = m.clientId ?? '';
        this.handshaken.resolve();
      } else if (m.channel === '/meta/subscribe') {
        if (!m.successful) this.fail(new Error(`faye subscribe: ${m.error ?? 'refused'}`));
        else if (--this.awaiting === 0) this.subscribed.resolve();
      } else if (m.channel === '/meta/connect') {
        if (m.successful === false) this.fail(new Error(`faye connect: ${m.error ?? 'refused'}`));
        reconnect = true;
      }
    }
    return reconnect;
  }

  fail(err: Error): void {
    this.handshaken.reject(err);
    this.subscribed.reject(err);
  }
}

export class FayeWsClient implements BenchClient {
  constructor(private readonly ctx: ClientContext) {}

  private async open(session: FayeSession, scan: boolean, isLive: () => boolean): Promise<RawWs> {
    const { ctx } = this;
    const ws = await RawWs.connect(ctx.port, MOUNT, {
      onMessage(payload) {
        if (scan && ctx.sink.scan(payload) > 0 && payload.indexOf(META_CONNECT) < 0) return;
        if (session.handle(payload)) ws.sendText(session.connect());
      },
      onClose() {
        session.fail(new Error('faye: connection closed'));
        if (isLive()) ctx.lost();
      },
    });
    ws.sendText(session.handshake());
    await session.handshaken.within(STEP_TIMEOUT_MS, 'faye handshake');
    return ws;
  }

  async subscribe(channels: readonly string[]): Promise<Conn> {
    const session = new FayeSession('websocket');
    let live = false;
    const ws = await this.open(session, true, () => live);
    ws.sendText(session.subscribe(channels));
    ws.sendText(session.connect());
    await session.subscribed.within(STEP_TIMEOUT_MS, 'faye subscribe');
    live = true;
    return ws;
  }

  async publisher(): Promise<Pub> {
    const session = new FayeSession('websocket');
    const ws = await this.open(session, false, () => false);
    ws.sendText(session.connect());
    ws.stampOnSend();
    return publisherOn(ws, (channel, payload) => ws.sendText(session.publish(channel, payload)));
  }
}

export class FayeLongPollingClient extends PollingClient {
  async subscribe(channels: readonly string[]): Promise<Conn> {
    const { ctx } = this;
    const session = new FayeSession('long-polling');
    const loop = new PollLoop(ctx.port, ctx.lost);
    const post = (body: string): Promise<Buffer> => loop.poller.request('POST', MOUNT, body).then((r) => r.body);
    session.handle(await post(session.handshake()));
    await session.handshaken.within(STEP_TIMEOUT_MS, 'faye handshake');
    session.handle(await post(session.subscribe(channels)));
    await session.subscribed.within(STEP_TIMEOUT_MS, 'faye subscribe');
    const conn = loop.live(() => Promise.resolve());
    loop.start(
      async () => {
        const body = await post(session.connect());
        if (loop.closed) return;
        // A reply with payloads is only parsed when something in it failed.
        if (ctx.sink.scan(body) > 0 && body.indexOf(META_CONNECT) >= 0 && body.indexOf(UNSUCCESSFUL) < 0) return;
        if (!session.handle(body)) throw new Error(`faye connect: no reply in ${body.toString('utf8').slice(0, 200)}`);
      },
      () => undefined,
    );
    return conn;
  }
}
