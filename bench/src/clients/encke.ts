/**
 * encke's clients, speaking the Ably protocol directly: WebSocket in JSON or MessagePack
 * (`/?key=…&format=…&heartbeats=false&v=6`, ATTACH, then MESSAGE frames), presence members on
 * the same connections (`clientId` query param, PRESENCE ENTER then UPDATE), and comet
 * long-polling (`/comet/connect`, `/comet/<connectionKey>/send` and `/recv`, JSON, `stream=false`).
 */
import {
  Action,
  PresenceAction,
  decodeFrame,
  encodeJson,
  encodeMsgpack,
  type Format,
  type Message,
  type ProtocolMessage,
} from '@encke/protocol';
import { DELTA_FORMAT } from '../documents.js';
import {
  parseJson,
  PollingClient,
  STEP_TIMEOUT_MS,
  publisherOn,
  type BenchClient,
  type ClientContext,
  type Conn,
  type Pub,
} from './client.js';
import { PollLoop, RawHttp } from './raw-http.js';
import { RawWs } from './raw-ws.js';
import { attachJson, attachMsgpack } from './setup-frames.js';
import { Handshake } from './encke-handshake.js';
import { serverFrames } from './server-frame.js';

/** The full-capability key the encke bench server is started with. */
export const ENCKE_KEY = 'bench.k1:bench-secret-not-for-production';
export const PROTOCOL_VERSION = 6;
/** The key as a query value, encoded once (not once an open). */
const KEY_PARAM = encodeURIComponent(ENCKE_KEY);

/**
 * A typing indicator's presence data: `{typing}` plus, on updates, the send time `at` (the
 * payload marker the generator finds in every delivery, see payload.ts).
 */
function typingData(typing: boolean, at?: string): string {
  return JSON.stringify(at === undefined ? { typing } : { typing, at });
}

/** How an encke subscriber attaches. */
export interface AttachOptions {
  /** Attach with `params: {delta: 'vcdiff'}` (S8; needs document mode to read the deltas). */
  delta?: boolean;
}

/** The ATTACH params of `options`, if any. */
function attachParams(options: AttachOptions): Record<string, string> | undefined {
  return options.delta ? { delta: DELTA_FORMAT } : undefined;
}

/** A delta subscriber cannot find the send-time marker inside deltas: it must decode (document mode). */
function checkDocumentMode(ctx: ClientContext, options: AttachOptions): void {
  if (options.delta && !ctx.documents)
    throw new Error('delta stacks run only document scenarios (S8): deltas must be decoded to be counted');
}

export class EnckeWsClient implements BenchClient {
  constructor(
    private readonly ctx: ClientContext,
    private readonly format: Format,
    private readonly options: AttachOptions = {},
  ) {
    checkDocumentMode(ctx, options);
  }

  private path(clientId?: string): string {
    const id = clientId === undefined ? '' : `&clientId=${encodeURIComponent(clientId)}`;
    return `/?key=${KEY_PARAM}${id}&format=${this.format}&heartbeats=false&v=${PROTOCOL_VERSION}`;
  }

  private encode(pm: ProtocolMessage): string | Uint8Array {
    return this.format === 'json' ? encodeJson(pm) : encodeMsgpack(pm);
  }

  /** An ATTACH of `channel`: the codec's bytes, written without it when there are no params (setup-frames.ts). */
  private attach(ws: RawWs, channel: string, params: Record<string, string> | undefined): void {
    const bytes = params ? undefined : this.format === 'json' ? attachJson(channel) : attachMsgpack(channel);
    if (typeof bytes === 'string') ws.sendText(bytes);
    else if (bytes) ws.sendBinary(bytes);
    else this.send(ws, { action: Action.ATTACH, channel, ...(params && { params }) });
  }

  private send(ws: RawWs, pm: ProtocolMessage): void {
    const bytes = this.encode(pm);
    if (typeof bytes === 'string') ws.sendText(bytes);
    else ws.sendBinary(bytes);
  }

  /**
   * Opens a connection whose deliveries go to the sink and attaches `channels`. The connection
   * counts as lost if it closes once `goLive()` was called.
   */
  private async open(
    channels: readonly string[],
    clientId?: string,
  ): Promise<{ ws: RawWs; hs: Handshake; goLive(): void }> {
    const { ctx, format } = this;
    const hs = new Handshake(this.options.delta);
    // Document mode decodes every message; otherwise the send-time marker is found in the frame.
    const reader = ctx.documents?.reader();
    let live = false;
    const ws = await RawWs.connect(ctx.port, this.path(clientId), {
      onMessage(payload) {
        if ((!reader && ctx.sink.scan(payload) > 0) || hs.read(payload, format)) return;
        for (const pm of serverFrames(decodeFrame(format === 'json' ? payload.toString('utf8') : payload, format))) {
          if (reader && pm.action === Action.MESSAGE) reader(pm);
          else if (!hs.handle(pm) && live) ws.close();
        }
      },
      onClose() {
        hs.fail(new Error('encke: connection closed'));
        if (live) ctx.lost();
      },
    });
    ctx.documents?.track(ws);
    // encke writes CONNECTED with the 101: it has usually been read by now.
    if (!hs.isConnected) await hs.connected.within(STEP_TIMEOUT_MS, 'encke CONNECTED');
    hs.expect(channels);
    const params = attachParams(this.options);
    for (const channel of channels) this.attach(ws, channel, params);
    await hs.attached.within(STEP_TIMEOUT_MS, 'encke ATTACHED');
    return { ws, hs, goLive: () => (live = true) };
  }

  async subscribe(channels: readonly string[]): Promise<Conn> {
    const { ws, goLive } = await this.open(channels);
    goLive();
    return ws;
  }

  /**
   * A presence member (the default attach modes include PRESENCE and PRESENCE_SUBSCRIBE): enters
   * with `{typing:false}`, then each update toggles `typing` and carries the send time.
   */
  async member(channel: string, clientId: string): Promise<Pub> {
    const { ws, hs, goLive } = await this.open([channel], clientId);
    const enter = { action: PresenceAction.ENTER, data: typingData(false), encoding: 'json' };
    this.send(ws, { action: Action.PRESENCE, channel, msgSerial: 0, presence: [enter] });
    await hs.acked.within(STEP_TIMEOUT_MS, 'encke presence ENTER');
    ws.stampOnSend();
    goLive();
    let msgSerial = 1;
    let typing = false;
    return publisherOn(ws, (_channel, stamp) => {
      typing = !typing;
      const update = { action: PresenceAction.UPDATE, data: typingData(typing, stamp), encoding: 'json' };
      this.send(ws, { action: Action.PRESENCE, channel, msgSerial: msgSerial++, presence: [update] });
    });
  }

  async publisher(): Promise<Pub> {
    const { ctx } = this;
    const hs = new Handshake();
    const ws = await RawWs.connect(ctx.port, this.path(), {
      onMessage: (payload) => {
        // ACKs are not decoded: only CONNECTED (and errors) matter to the publisher.
        if (hs.connectionKey === '' && !hs.read(payload, this.format))
          for (const pm of serverFrames(
            decodeFrame(this.format === 'json' ? payload.toString('utf8') : payload, this.format),
          ))
            hs.handle(pm);
      },
      onClose() {
        hs.fail(new Error('encke publisher: connection closed'));
        // The server failed the publisher (e.g. past maxInboundQueue): what it still offers is lost.
        if (hs.connectionKey !== '') ctx.lost();
      },
    });
    await hs.connected.within(STEP_TIMEOUT_MS, 'encke publisher CONNECTED');
    let msgSerial = 0;
    const { documents } = ctx;
    // Stamped as the frame is sent, as every stack's publisher is (raw-ws.ts); S8's documents are
    // checked byte for byte against the copies kept, so they keep the stamp the load made.
    if (!documents) ws.stampOnSend();
    // Document mode: the load's payload is just the send-time stamp, carried inside the next document.
    const message = (data: string): Message =>
      documents ? { name: 'doc', data: documents.next(data), encoding: 'json' } : { name: 'm', data };
    return publisherOn(ws, (channel, data) =>
      this.send(ws, { action: Action.MESSAGE, channel, msgSerial: msgSerial++, messages: [message(data)] }),
    );
  }
}

/** Comet long-polling (the fact sheet's §1.3): always JSON, auth in the query of every request. */
export class EnckeCometClient extends PollingClient {
  constructor(
    ctx: ClientContext,
    ws: BenchClient,
    /** Streaming (ably-js's default on Node): recv responses stay open, one line per batch. */
    private readonly stream = false,
    private readonly options: AttachOptions = {},
  ) {
    super(ctx, ws);
    checkDocumentMode(ctx, options);
  }

  /** Whether the server serves comet (the transport may not be merged yet). */
  static async available(port: number): Promise<boolean> {
    const conn = new RawHttp(port);
    try {
      const res = await conn.request(
        'GET',
        `/comet/connect?key=${encodeURIComponent(ENCKE_KEY)}&heartbeats=true&v=${PROTOCOL_VERSION}&stream=false`,
      );
      if (res.status !== 200) return false;
      const pm = serverFrames(parseJson(res.body.toString('utf8')))[0];
      const key = pm?.connectionKey;
      if (pm?.action !== Action.CONNECTED || key === undefined) return false;
      await conn.request('GET', `/comet/${key}/close?key=${encodeURIComponent(ENCKE_KEY)}`);
      return true;
    } finally {
      conn.close();
    }
  }

  async subscribe(channels: readonly string[]): Promise<Conn> {
    const { ctx } = this;
    const auth = `key=${encodeURIComponent(ENCKE_KEY)}`;
    const hs = new Handshake(this.options.delta);
    const reader = ctx.documents?.reader();
    const handleBody = (body: Buffer): boolean => {
      if (body.length === 0 || (!reader && ctx.sink.scan(body) > 0)) return true;
      let ok = true;
      for (const pm of serverFrames(parseJson(body.toString('utf8')))) {
        if (reader && pm.action === Action.MESSAGE) reader(pm);
        else ok = hs.handle(pm) && ok;
      }
      return ok;
    };
    const loop = new PollLoop(ctx.port, ctx.lost);
    ctx.documents?.track(loop.poller);
    let base = '';
    if (this.stream) {
      // One line per batch; a chunk holds whole lines or part of one.
      let partial = '';
      const onChunk = (chunk: Buffer): void => {
        if (!reader && ctx.sink.scan(chunk) > 0) return;
        const text = partial + chunk.toString('utf8');
        const end = text.lastIndexOf('\n');
        partial = text.slice(end + 1);
        for (const line of text.slice(0, end + 1).split('\n'))
          if (line !== '' && !handleBody(Buffer.from(line)) && !loop.closed) loop.poller.close();
      };
      const streamed = (path: string): Promise<unknown> =>
        loop.poller.request('GET', path, undefined, undefined, onChunk).then((res) => {
          if (!loop.closed && res.status >= 400) throw new Error(`comet stream: ${res.status}`);
        });
      let current: Promise<unknown> = streamed(`/comet/connect?${auth}&heartbeats=true&v=${PROTOCOL_VERSION}`);
      await hs.connected.within(STEP_TIMEOUT_MS, 'comet CONNECTED');
      base = `/comet/${hs.connectionKey}`;
      loop.start(
        async () => {
          await current;
          current = streamed(`${base}/recv?${auth}`);
        },
        (err) => hs.attached.reject(err),
      );
    } else {
      const first = await loop.poller.request(
        'GET',
        `/comet/connect?${auth}&heartbeats=true&v=${PROTOCOL_VERSION}&stream=false`,
      );
      handleBody(first.body);
      await hs.connected.within(STEP_TIMEOUT_MS, 'comet CONNECTED');
      base = `/comet/${hs.connectionKey}`;
      loop.start(
        async () => {
          const res = await loop.poller.request('GET', `${base}/recv?${auth}`);
          if (!loop.closed && (res.status >= 400 || !handleBody(res.body)))
            throw new Error(`comet recv: ${res.status} ${res.body.toString('utf8').slice(0, 200)}`);
        },
        (err) => hs.attached.reject(err),
      );
    }
    hs.expect(channels);
    const params = attachParams(this.options);
    const attach = channels.map((channel) => ({ action: Action.ATTACH, channel, ...(params && { params }) }));
    const sent = await loop.sender.request('POST', `${base}/send?${auth}`, JSON.stringify(attach));
    handleBody(sent.body);
    await hs.attached.within(STEP_TIMEOUT_MS, 'comet ATTACHED');
    return loop.live((sender) => sender.request('GET', `${base}/close?${auth}`));
  }
}
