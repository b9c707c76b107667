/**
 * The transport behind Ably's SSE and raw HTTP streaming API: one streamed HTTP response carrying a
 * subscribe-only connection. It is an ordinary session: the transport attaches the requested
 * channels on the client's behalf (re-attaching from the positions in `lastEvent`, or with
 * `rewind`), and turns what the session writes into events (events.ts). The stream opens once
 * every channel is attached, so bad credentials or a refused channel are a plain HTTP error.
 *
 * The client cannot resume the session itself: when the stream ends the session is closed, and a
 * new request with `lastEvent` (EventSource sends `Last-Event-ID` by itself) starts a new one at the
 * positions the id names.
 */
import type { ServerResponse } from 'node:http';
import { AblyError, Action, Err, Flag, type ErrorInfo, type ProtocolMessage } from '@encke/protocol';
import { ParkedResponse, type ParkOwner } from '../../http/parked.js';
import { sendError } from '../../http/respond.js';
import type { NodeContext } from '../../context.js';
import { httpChunk, writeAlone, type OutboundFrame } from '../../wire/frame.js';
import type { ConnectionIssued, Transport, TransportOwner } from '../../session/port.js';
import { errorEvent, frameItems, itemEvent, keepalive, positionMark, type StreamStyle } from './events.js';
import type { EventStreamParams } from './params.js';
import { alreadySeen, encodePositions, type ResumePoint } from './positions.js';

/** Modes an SSE stream attaches with: it only listens. */
const LISTEN = Flag.SUBSCRIBE | Flag.PRESENCE_SUBSCRIBE;

export class EventStreamTransport implements Transport, ParkOwner {
  readonly kind = 'sse' as const;
  readonly format = 'json' as const;
  private owner: TransportOwner | null = null;
  private opened = false;
  private ended = false;
  private attached = 0;
  private lastWrite: number;
  /** Each channel's position (see positions.ts), once attached. */
  private readonly positions: (string | undefined)[];
  /** node:http's response, until the open stream is parked (http/parked.ts): then null. */
  private res: ServerResponse | null;
  private parked: ParkedResponse | null = null;

  constructor(
    private readonly ctx: NodeContext,
    res: ServerResponse,
    private readonly params: EventStreamParams,
    private readonly style: StreamStyle,
    private readonly resume: readonly ResumePoint[] | undefined,
  ) {
    this.positions = params.channels.map(() => undefined);
    this.lastWrite = ctx.clock.now();
    this.res = res;
    res.on('close', () => this.clientGone());
  }

  parkedClosed(): void {
    this.clientGone();
  }

  connected(owner: TransportOwner, _issued: ConnectionIssued): void {
    if (this.owner) return; // a CONNECTED after reauth: the channels are attached already
    this.owner = owner;
    this.params.channels.forEach((channel, i) => {
      const pm: ProtocolMessage = { action: Action.ATTACH, channel, flags: LISTEN };
      const from = this.resume?.[i];
      if (from) pm.channelSerial = from.channelSerial;
      else if (this.params.rewind !== undefined) pm.params = { rewind: this.params.rewind };
      owner.receive(pm);
    });
  }

  write(frames: readonly OutboundFrame[]): void {
    let out = '';
    for (const frame of frames) {
      if (this.ended) break;
      out += this.render(frame);
    }
    if (out !== '') this.send(out);
  }

  writeOne(frame: OutboundFrame): void {
    writeAlone(this, frame);
  }

  end(final?: OutboundFrame): void {
    if (this.ended) return;
    if (final) {
      const out = this.render(final);
      if (out !== '') this.send(out);
    }
    this.finish();
  }

  tick(now: number): void {
    if (this.opened && !this.ended && now - this.lastWrite >= this.ctx.options.heartbeatInterval)
      this.send(keepalive(this.style, this.params.heartbeats));
  }

  terminate(): void {
    this.ended = true;
    (this.parked ?? this.res!).destroy();
  }

  /** The stream is read whole by the client; nothing to hold back. */
  pauseReading(): void {}

  resumeReading(): void {}

  /** What one frame becomes on the stream ('' for nothing). Fatal frames end the stream. */
  private render(frame: OutboundFrame): string {
    const pm = frame.pm;
    switch (pm.action) {
      case Action.ATTACHED:
        return this.onAttached(pm);
      case Action.MESSAGE:
      case Action.PRESENCE:
        return this.items(frame);
      case Action.HEARTBEAT:
        return this.opened ? keepalive(this.style, this.params.heartbeats) : '';
      case Action.DETACHED:
      case Action.ERROR:
      case Action.DISCONNECTED:
        if (pm.action === Action.DISCONNECTED && !pm.error) return this.stop('');
        return this.fatal(pm.error ?? new AblyError(Err.internal, 'Channel detached').toErrorInfo());
      case Action.CLOSED:
        return this.stop('');
      default:
        return ''; // CONNECTED, SYNC, ACK: nothing a listener needs
    }
  }

  private onAttached(pm: ProtocolMessage): string {
    const i = this.params.channels.indexOf(pm.channel ?? '');
    if (i < 0) return '';
    const first = this.positions[i] === undefined;
    // A resumed attach keeps the client's own position (it may be inside an event); otherwise the
    // stream continues from the attach point (also after an unsolicited re-attach: new epoch).
    if (first || (pm.flags ?? 0) & Flag.RESUMED) this.positions[i] ??= pm.channelSerial;
    else this.positions[i] = pm.channelSerial;
    if (first) this.attached++;
    let out = '';
    if (!this.opened && this.attached === this.params.channels.length) {
      this.open();
      out += positionMark(this.style, this.id());
    }
    // Continuity was lost (the log no longer reaches back to lastEvent): say so, keep streaming.
    if (pm.error) out += errorEvent(this.style, pm.error);
    return out;
  }

  private items(frame: OutboundFrame): string {
    const i = this.params.channels.indexOf(frame.pm.channel ?? '');
    if (i < 0 || !this.opened) return '';
    const items = frameItems(frame);
    const resume = this.resume?.[i];
    const last = items.serials.length - 1;
    let out = '';
    for (let k = 0; k <= last; k++) {
      const serial = items.serials[k];
      if (alreadySeen(resume, serial)) continue;
      // Presence items carry no serial: only the frame's last one marks a position (channelSerial).
      const position = serial ?? (k === last ? frame.pm.channelSerial : undefined);
      if (position !== undefined) this.positions[i] = position;
      out += itemEvent(this.style, items, k, this.params.enveloped, position === undefined ? undefined : this.id());
    }
    return out;
  }

  private id(): string {
    return encodePositions(this.positions.map((p) => p ?? ''));
  }

  /** A fatal error: an `error` event on an open stream, else a plain HTTP error; then the end. */
  private fatal(error: ErrorInfo): string {
    if (!this.opened) {
      this.ended = true;
      sendError(this.res!, new AblyError({ code: error.code, statusCode: error.statusCode, message: error.message }));
      this.closeSession();
      return '';
    }
    return this.stop(errorEvent(this.style, error));
  }

  /** Ends the stream after `last`; the session goes with it. */
  private stop(last: string): string {
    if (last !== '') this.send(last);
    this.finish();
    this.closeSession();
    return '';
  }

  /** Sends the head; the stream, open for as long as the client listens, is then parked off node:http. */
  private open(): void {
    this.opened = true;
    const res = this.res!;
    res.writeHead(200, {
      'Content-Type': this.style === 'sse' ? 'text/event-stream; charset=utf-8' : 'application/json; charset=utf-8',
      'Cache-Control': 'no-store, no-transform',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    this.parked = ParkedResponse.take(res.req, res, this) ?? null;
    if (this.parked) this.res = null;
  }

  private send(text: string): void {
    if (this.ended || !this.opened) return;
    this.lastWrite = this.ctx.clock.now();
    if (this.parked) this.parked.write(httpChunk(Buffer.from(text)));
    else this.res!.write(text);
    this.ctx.metrics.wrote('sse', Buffer.byteLength(text));
    const buffered = this.parked ? this.parked.writableLength : (this.res!.socket?.writableLength ?? 0);
    if (buffered > this.ctx.options.maxOutboundBuffer) {
      this.ctx.metrics.slowConsumer('sse', 0);
      // A slow consumer: drop it; it comes back with Last-Event-ID and misses nothing.
      this.ctx.logger.warn({ buffered }, 'dropping slow event-stream consumer');
      this.terminate();
      this.closeSession();
    }
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.parked) this.parked.endChunked();
    else if (this.opened) this.res!.end();
    else if (!this.res!.headersSent)
      sendError(this.res!, new AblyError(Err.disconnected, 'Connection ended before the stream opened'));
  }

  /** The stream's session is of no use once the stream is gone: close it (no resume by key). */
  private closeSession(): void {
    const owner = this.owner;
    this.owner = null;
    owner?.receive({ action: Action.CLOSE });
  }

  private clientGone(): void {
    if (!this.ended) this.ended = true;
    this.closeSession();
  }
}
