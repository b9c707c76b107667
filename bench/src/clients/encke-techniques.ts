/**
 * encke's other comet techniques as subscribers (issue 15), beside long-polling and streaming in
 * encke.ts: the comet connection's recv framed as Server-Sent Events, as a forever-iframe
 * document, as multipart/x-mixed-replace, or answered as JSONP (script-tag polling), and Ably's
 * SSE API (`/sse`, subscribe-only). Payloads are found by their marker whatever the framing; the
 * set-up messages (CONNECTED, ATTACHED) are read out of the framing by a small bracket scanner.
 */
import { Action, isArrayValue, parseJson } from '@encke/protocol';
import { PollingClient, STEP_TIMEOUT_MS, within, type ClientContext, type Conn, type BenchClient } from './client.js';
import { Handshake } from './encke-handshake.js';
import { ENCKE_KEY, PROTOCOL_VERSION } from './encke.js';
import { PollLoop } from './raw-http.js';
import { serverFrames, type ServerFrame } from './server-frame.js';

export type Technique = 'sse' | 'htmlfile' | 'multipart' | 'jsonp';

/** The query that asks for each framing (no headers: the raw client sends none). */
const ENVELOPE: Record<Technique, string> = {
  sse: '&envelope=sse',
  htmlfile: `&envelope=htmlfile&origin=${encodeURIComponent('http://bench.local')}`,
  multipart: '&envelope=multipart',
  jsonp: '&envelope=jsonp&callback=cb',
};

/** One JSON array of ProtocolMessages, checked (server-frame.ts). */
function batchOf(text: string): ServerFrame[] {
  const value = parseJson(text);
  if (!isArrayValue(value)) throw new Error(`not a batch of protocol messages: ${text.slice(0, 200)}`);
  return serverFrames(value);
}

/**
 * The complete JSON arrays of ProtocolMessages (`[{"action":…}]`) in `text`, and what is left after
 * the last one (a piece of an array still arriving). Framing around them is skipped.
 */
export function takeArrays(text: string): { arrays: ServerFrame[][]; rest: string } {
  const arrays: ServerFrame[][] = [];
  let from = 0;
  for (;;) {
    const start = text.indexOf('[{"action":', from);
    if (start < 0) return { arrays, rest: '' };
    let depth = 0;
    let inString = false;
    let end = -1;
    for (let i = start; i < text.length && end < 0; i++) {
      const c = text[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '[' || c === '{') depth++;
      else if ((c === ']' || c === '}') && --depth === 0) end = i;
    }
    if (end < 0) return { arrays, rest: text.slice(start) };
    arrays.push(batchOf(text.slice(start, end + 1)));
    from = end + 1;
  }
}

export class EnckeTechniqueClient extends PollingClient {
  constructor(
    ctx: ClientContext,
    ws: BenchClient,
    private readonly technique: Technique,
  ) {
    super(ctx, ws);
  }

  async subscribe(channels: readonly string[]): Promise<Conn> {
    const { ctx } = this;
    const auth = `key=${encodeURIComponent(ENCKE_KEY)}`;
    const envelope = ENVELOPE[this.technique];
    const hs = new Handshake();
    const loop = new PollLoop(ctx.port, ctx.lost);
    let partial = '';
    const onText = (chunk: Buffer): void => {
      if (ctx.sink.scan(chunk) > 0) return;
      const { arrays, rest } = takeArrays(partial + chunk.toString('utf8'));
      partial = rest;
      for (const batch of arrays) for (const pm of batch) if (!hs.handle(pm) && !loop.closed) loop.poller.close();
    };
    let base = '';
    if (this.technique === 'jsonp') {
      const first = await loop.poller.request(
        'GET',
        `/comet/connect?${auth}&heartbeats=true&v=${PROTOCOL_VERSION}${envelope}`,
      );
      onText(first.body);
      await hs.connected.within(STEP_TIMEOUT_MS, 'jsonp CONNECTED');
      base = `/comet/${hs.connectionKey}`;
      loop.start(
        async () => {
          const res = await loop.poller.request('GET', `${base}/recv?${auth}${envelope}`);
          if (!loop.closed && res.status >= 400) throw new Error(`jsonp recv: ${res.status}`);
          onText(res.body);
        },
        (err) => hs.attached.reject(err),
      );
    } else {
      const streamed = (path: string): Promise<unknown> =>
        loop.poller.request('GET', path, undefined, undefined, onText).then((res) => {
          if (!loop.closed && res.status >= 400) throw new Error(`${this.technique} stream: ${res.status}`);
        });
      let current: Promise<unknown> = streamed(
        `/comet/connect?${auth}&heartbeats=true&v=${PROTOCOL_VERSION}${envelope}`,
      );
      await hs.connected.within(STEP_TIMEOUT_MS, `${this.technique} CONNECTED`);
      base = `/comet/${hs.connectionKey}`;
      loop.start(
        async () => {
          await current;
          current = streamed(`${base}/recv?${auth}${envelope}`);
        },
        (err) => hs.attached.reject(err),
      );
    }
    hs.expect(channels);
    await loop.sender.request(
      'POST',
      `${base}/send?${auth}`,
      JSON.stringify(channels.map((channel) => ({ action: Action.ATTACH, channel }))),
    );
    await hs.attached.within(STEP_TIMEOUT_MS, `${this.technique} ATTACHED`);
    return loop.live((sender) => sender.request('GET', `${base}/close?${auth}`));
  }
}

/** Ably's SSE API: one streamed `GET /sse` per subscriber, subscribe-only; open once it says where it is. */
export class EnckeSseApiClient extends PollingClient {
  async subscribe(channels: readonly string[]): Promise<Conn> {
    const { ctx } = this;
    const loop = new PollLoop(ctx.port, ctx.lost);
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const onChunk = (chunk: Buffer): void => {
      // The first bytes, once every channel is attached, are an `id:` line (the stream's position).
      if (ctx.sink.scan(chunk) === 0 && chunk.includes('id: ')) opened();
    };
    const path = `/sse?v=1.2&channels=${encodeURIComponent(channels.join(','))}&key=${encodeURIComponent(ENCKE_KEY)}`;
    let first = true;
    loop.start(
      async () => {
        if (!first) throw new Error('sse api: the stream ended');
        first = false;
        const res = await loop.poller.request('GET', path, undefined, undefined, onChunk);
        if (!loop.closed && res.status >= 400) throw new Error(`sse api: ${res.status}`);
      },
      () => undefined,
    );
    await within(open, STEP_TIMEOUT_MS, 'sse api stream');
    return loop.live(() => Promise.resolve());
  }
}
