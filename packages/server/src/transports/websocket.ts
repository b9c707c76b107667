/**
 * The WebSocket transport (protocol fact sheet §1.2, ably-js wire notes §2). One ProtocolMessage per
 * frame: text for JSON, binary for msgpack. The `ws` library does the handshake, frame parsing (common
 * frames are read past its Receiver: ws-fast-read.ts), pings and close; outbound frames are pre-framed
 * once (OutboundFrame.ws) and written straight to the socket, several per tick in one corked write.
 *
 * Auth failures are sent in-band after the upgrade (ERROR, then close): ably-js treats a refused
 * upgrade as a network error and retries forever.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { AblyError, Action, Err, PayloadError, type Format } from '@encke/protocol';
import { WebSocket, type RawData } from 'ws';
import type { NodeContext } from '../context.js';
import type { Inbound, Transport, TransportOwner } from '../session/port.js';
import { compactTime } from '../util/compact-time.js';
import { OutboundFrame, encodableFrames } from '../wire/frame.js';
import { WS_PING_FRAME } from '../wire/ws-framing.js';
import { holdResponse, writeResponse, writeResponseWith, type SocketOptions } from './ws-handshake.js';
import { EarlyFrames, decodeInbound, frameBytes } from './ws-inbound.js';
import { readFramesFast } from './ws-fast-read.js';
import { pongCallback, shareWsDefaults, type PongCallback, type WsPerConnection } from './ws-shared.js';

// One set of listener functions for every connection (no closures per connection): `ws` calls
// them with `this` = the WebSocket, which is the transport.
function onWsMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  (this as WebSocketTransport).handleMessage(data, isBinary);
}
function onWsClose(this: WebSocket): void {
  (this as WebSocketTransport).handleClose();
}
function onWsError(this: WebSocket, err: Error): void {
  (this as WebSocketTransport).handleError(err);
}

const HEARTBEAT = new OutboundFrame({ action: Action.HEARTBEAT });

/**
 * A transport's booleans and its format, bits of one small integer (one field a connection, not
 * six: bench S3).
 */
const ENDED = 1;
const CORKED = 2;
const PAUSED = 4;
const HEARTBEATS = 8;
/** Something was written since the last heartbeat visit (`tick` turns it into `lastOutbound`, so a write reads no clock). */
const WROTE = 16;
const MSGPACK = 32;
/** Within the upgrade, before anything was read from the client (Transport.connectsAlone). */
const ACCEPTING = 64;
/** The 101 response is held (ws-handshake.ts) to go out with the first frame written within the upgrade. */
const HANDSHAKE = 128;

/**
 * The transport is the WebSocket itself: `ws` makes one of these for every upgrade (the server's
 * `WebSocket` option, websocket-server.ts), and `start` makes it a connection's transport. One
 * object per connection instead of two, and no pointers between them (bench S3: ~40 bytes).
 */
export class WebSocketTransport extends WebSocket implements Transport, WsPerConnection {
  // Set by `start`, right after `ws` has made this WebSocket and handed it the socket.
  private ctx!: NodeContext;
  /** `ws`'s own (untyped in @types/ws): takes over `socket` after the handshake, as `ws`'s server calls it. */
  declare setSocket: (socket: Duplex, head: Buffer, options: SocketOptions) => void;
  /** `ws`'s own (untyped in @types/ws): the socket `setSocket` took (before `start`; no field of the transport's own). */
  declare readonly _socket: Socket;
  /** @internal `ws`'s own, shared (ws-shared.ts). */
  declare _extensions: WsPerConnection['_extensions'];
  declare _autoPongComplete: WsPerConnection['_autoPongComplete'];
  declare _pendingAutoPongs: number;
  /**
   * Who takes the client's messages: the session (TransportOwner) once CONNECTED; before it, the
   * frames held until then (EarlyFrames, made by the first frame that comes before CONNECTED: auth
   * is asynchronous) or null. One field for both (bench S3).
   */
  private peer: TransportOwner | EarlyFrames | null = null;
  /**
   * ENDED, CORKED, PAUSED, HEARTBEATS, WROTE, MSGPACK, ACCEPTING (the accessors below). Its
   * initializer, run once `ws`'s constructor has returned, shares `ws`'s per-connection defaults.
   */
  private flags: number = shareWsDefaults(this);
  /**
   * When the peer was last heard from and last written to (compactTime: ms in a small integer).
   * Heard from is noted by the heartbeat visit, from the socket's count of bytes read
   * (`readMark`): no clock read per frame and no pong listener (a fourth listener grows `ws`'s
   * listener table by ~100 bytes a connection, bench S3).
   */
  private lastInbound = 0;
  private lastOutbound = 0;
  /** The socket's `bytesRead` at the last visit. */
  private readMark = 0;

  /** `ws`'s automatic pong gets the callback `ws` would have made for it (ws-shared.ts); any other goes as it is. */
  override pong(data?: unknown, mask?: boolean, cb?: PongCallback): void {
    super.pong(data, mask, pongCallback(this, cb));
  }

  /** The session once CONNECTED; null before. */
  private get owner(): TransportOwner | null {
    const peer = this.peer;
    return peer instanceof EarlyFrames ? null : peer;
  }

  /** Makes this WebSocket, just upgraded over `socket` (its `setSocket` done), a transport of `format`. */
  start(ctx: NodeContext, socket: Socket, format: Format, heartbeats: boolean): this {
    this.ctx = ctx;
    this.flags =
      (this.flags & HANDSHAKE) |
      (socket.writableCorked > 0 ? CORKED : 0) |
      (heartbeats ? HEARTBEATS : 0) |
      (format === 'msgpack' ? MSGPACK : 0);
    this.lastInbound = this.lastOutbound = compactTime(ctx.clock.now());
    this.readMark = socket.bytesRead;
    this.on('message', onWsMessage);
    this.on('close', onWsClose);
    this.on('error', onWsError);
    readFramesFast(this, socket);
    return this;
  }

  /** @internal for the shared listeners */
  handleMessage(data: RawData, isBinary: boolean): void {
    try {
      this.onMessage(data, isBinary);
    } catch (err) {
      // The last resort for this connection: it ends (50000), the process and the others go on.
      this.ctx.faults.report('connection', err, {}, 'connection failed: unexpected error handling a frame');
      this.fatal(new AblyError(Err.internal, 'Internal error; the connection was closed', { cause: err }));
    }
  }

  private get ended(): boolean {
    return (this.flags & ENDED) !== 0;
  }
  private set ended(on: boolean) {
    this.flags = on ? this.flags | ENDED : this.flags & ~ENDED;
  }
  /** The socket is corked from the upgrade until the first frame (CONNECTED or ERROR) is written. */
  private get corked(): boolean {
    return (this.flags & CORKED) !== 0;
  }
  private set corked(on: boolean) {
    this.flags = on ? this.flags | CORKED : this.flags & ~CORKED;
  }
  /** Reading is held back (`pauseReading`). */
  private get paused(): boolean {
    return (this.flags & PAUSED) !== 0;
  }
  private set paused(on: boolean) {
    this.flags = on ? this.flags | PAUSED : this.flags & ~PAUSED;
  }
  /** The client asked for HEARTBEAT messages (`heartbeats=true`). */
  private get heartbeats(): boolean {
    return (this.flags & HEARTBEATS) !== 0;
  }
  private get wrote(): boolean {
    return (this.flags & WROTE) !== 0;
  }
  private set wrote(on: boolean) {
    this.flags = on ? this.flags | WROTE : this.flags & ~WROTE;
  }

  /** The wire format the client asked for (`format=`). */
  get format(): Format {
    return (this.flags & MSGPACK) !== 0 ? 'msgpack' : 'json';
  }

  /** Transport.connectsAlone: CONNECTED, written within the upgrade with no client bytes read, is the tick's only frame. */
  get connectsAlone(): boolean {
    return (this.flags & ACCEPTING) !== 0;
  }
  /** @internal acceptWebSocket, around the open it runs within the upgrade */
  set accepting(on: boolean) {
    this.flags = on ? this.flags | ACCEPTING : this.flags & ~ACCEPTING;
  }

  /** @internal acceptWebSocket, within the upgrade: `response` (the 101) goes out with the first frame. */
  holdHandshake(response: string): void {
    holdResponse(response);
    this.flags |= HANDSHAKE;
  }

  /**
   * @internal acceptWebSocket, after the open within the upgrade: a 101 no frame took (a token, a resume) goes
   * now, the socket corked until the first frame, as after `ws`'s own handshake.
   */
  releaseHandshake(): void {
    if ((this.flags & HANDSHAKE) === 0) return;
    this._socket.cork();
    this.flags |= CORKED;
    this.sendHandshake();
  }

  private sendHandshake(): void {
    this.flags &= ~HANDSHAKE;
    writeResponse(this._socket);
  }

  /** What this transport is (the Transport port's tag; on the prototype, not in each object). */
  get kind(): 'web_socket' {
    return 'web_socket';
  }

  /** @internal for the shared listeners */
  handleClose(): void {
    this.onClose();
  }

  /** @internal for the shared listeners */
  handleError(err: Error): void {
    if (this.ctx.logger.isLevelEnabled('debug')) this.ctx.logger.debug({ err: err.message }, 'websocket error');
  }

  /** The first CONNECTED: client messages go to the session from now on (a WebSocket is not found by key). */
  connected(owner: TransportOwner): void {
    const early = this.peer;
    if (early === owner) return;
    this.peer = owner;
    if (early instanceof EarlyFrames) for (const pm of early.frames) owner.receive(pm);
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.ended) return;
    const bytes = frameBytes(data);
    let inbound: Inbound;
    try {
      inbound = decodeInbound(bytes, isBinary, this.format, this.ctx.options.maxFrameSize);
    } catch (err) {
      return this.fatal(AblyError.from(err));
    }
    if (!(inbound instanceof PayloadError) && inbound.action === Action.DISCONNECT) {
      // The client is dropping this transport to resume on another. Handled here, not queued in
      // the session: queued behind a slow publish it could reach the session after the resume and
      // drop the new transport instead of this one.
      this.ended = true;
      this.dropEarly();
      this.close(1000);
      this.owner?.transportGone(this);
      return;
    }
    const peer = this.peer;
    if (peer !== null && !(peer instanceof EarlyFrames)) return peer.receive(inbound);
    // Held only while the credentials are verified (EarlyFrames' limits).
    const early = peer ?? (this.peer = new EarlyFrames());
    if (!early.hold(inbound, bytes.byteLength, this.ctx.options.maxFrameSize)) {
      this.fatal(new AblyError(Err.protocolError, 'Too many messages before CONNECTED'));
    }
  }

  /** Frames held before CONNECTED are dropped (the transport ends). */
  private dropEarly(): void {
    if (this.peer instanceof EarlyFrames) this.peer = null;
  }

  /** A broken frame: ERROR to the client and the connection is gone. */
  private fatal(err: AblyError): void {
    if (this.owner) this.owner.fail(err);
    else this.end(new OutboundFrame({ action: Action.ERROR, error: err.toErrorInfo() }));
  }

  write(all: readonly OutboundFrame[]): void {
    if (all.length === 1) return this.writeOne(all[0]!);
    if (this.ended || this.readyState !== WebSocket.OPEN) return;
    // A frame no encoder takes is dropped here, for this connection only (reported as a fault).
    const frames = encodableFrames(all, this.format, this.ctx.faults);
    if (frames.length === 0) return;
    const socket = this._socket;
    let bytes = 0;
    // Several frames in one corked write. The 101 response may still be in the socket's buffer
    // (corked since the upgrade): it and CONNECTED go out in the same write.
    if (!this.corked) socket.cork();
    this.corked = false;
    if ((this.flags & HANDSHAKE) !== 0) this.sendHandshake();
    for (const f of frames) bytes += writeFrame(socket, f.wsWrite(this.format));
    socket.uncork();
    this.afterWrite(bytes);
  }

  /**
   * One frame: the frame's bytes, made once for every subscriber, straight to the socket. Every
   * delivery of a fan-out comes this way, so it does no more than that and the bookkeeping.
   */
  writeOne(frame: OutboundFrame): void {
    if (this.ended || this.readyState !== WebSocket.OPEN) return;
    // Null: no encoder takes the frame; dropped for this connection only (reported as a fault).
    const wire = frame.wsIfEncodes(this.format, this.ctx.faults);
    if (wire === null) return;
    let bytes: number;
    if ((this.flags & HANDSHAKE) === 0) bytes = writeFrame(this._socket, wire);
    else {
      this.flags &= ~HANDSHAKE;
      bytes = writeResponseWith(this._socket, wire);
    }
    if (this.corked) {
      // The 101 response waited in the socket's buffer: it and CONNECTED go out in one write.
      this.corked = false;
      this._socket.uncork();
    }
    this.afterWrite(bytes);
  }

  /** After a write: bytes out, not idle towards the client, and the slow-consumer check. */
  private afterWrite(bytes: number): void {
    this.ctx.metrics.wrote('web_socket', bytes);
    this.wrote = true;
    if (this._socket.writableLength > this.ctx.options.maxOutboundBuffer) this.slowConsumer();
  }

  /** The client reads slower than it is sent to: drop the transport; it resumes and replays from the log. */
  private slowConsumer(): void {
    this.ctx.logger.warn({ buffered: this._socket.writableLength }, 'dropping slow websocket consumer');
    this.ctx.metrics.slowConsumer('web_socket', 0);
    this.ended = true;
    super.terminate();
    this.owner?.transportGone(this);
  }

  end(final?: OutboundFrame): void {
    if (this.ended) return;
    if (final) this.write([final]);
    // Nothing written yet within the upgrade: the 101 goes before the close frame.
    if ((this.flags & HANDSHAKE) !== 0) this.sendHandshake();
    if (this.corked) {
      this.corked = false;
      this._socket.uncork();
    }
    this.ended = true;
    this.dropEarly();
    if (this.readyState === WebSocket.OPEN) this.close(1000);
    else super.terminate();
  }

  /**
   * Destroys the socket at once: Transport.terminate (the node failing a connection, or stopping),
   * and `ws`'s own (a peer that floods pings without reading the pongs). Its 'close' then tells
   * the owner, if it still has this transport, as for any socket that closes.
   */
  override terminate(): void {
    this.dropEarly();
    this.flags &= ~HANDSHAKE; // a 101 still held is not written (the next upgrade holds its own)
    super.terminate();
  }

  pauseReading(): void {
    this.paused = true;
    this.pause();
  }

  resumeReading(): void {
    this.paused = false;
    this.resume();
  }

  tick(clockNow: number): void {
    if (this.ended) return;
    const now = compactTime(clockNow);
    // Anything read since the last visit (a message, a pong) is the peer heard from. Not reading
    // (the session is behind) is not the peer's silence either.
    const read = this._socket.bytesRead;
    if (read !== this.readMark || this.paused) {
      this.readMark = read;
      this.lastInbound = now;
    }
    const interval = this.ctx.options.heartbeatInterval;
    if (this.wrote) {
      // Written since the last visit (at most an interval ago): not idle towards the client.
      this.wrote = false;
      this.lastOutbound = now;
    }
    if (now - this.lastInbound > this.ctx.options.maxIdleInterval + interval) {
      // No pong or message for too long: the peer is gone without a FIN.
      this.ended = true;
      super.terminate();
      this.owner?.transportGone(this);
      return;
    }
    if (this.heartbeats && now - this.lastOutbound >= interval) {
      this.writeOne(HEARTBEAT);
      this.wrote = false;
      this.lastOutbound = now;
    }
    // The ping is one constant frame straight to the socket, as deliveries are (ws-framing.ts).
    if (now - this.lastInbound >= interval && this.readyState === WebSocket.OPEN) this._socket.write(WS_PING_FRAME);
  }

  private onClose(): void {
    this.dropEarly();
    if (this.ended) return;
    this.ended = true;
    this.owner?.transportGone(this);
  }
}

/** Writes one encoded frame (a string is latin1 text: one char a byte); returns its size for the bytes-out count. */
function writeFrame(socket: Duplex, frame: Buffer | string): number {
  if (typeof frame === 'string') socket.write(frame, 'latin1');
  else socket.write(frame);
  return frame.length;
}
