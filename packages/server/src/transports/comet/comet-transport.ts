/**
 * The comet transport (protocol fact sheet §1.3, ably-js wire notes §3): one connection carried by
 * a series of HTTP requests. The connect request is the first recv; later recvs fetch what the
 * session wrote; sends push client messages into the session.
 *
 * - At most one recv is held at a time. A newer recv ends the older one cleanly (an empty array).
 * - Frames written while no recv is held wait in a bounded queue and go out together, in order, on
 *   the next recv. Everything the server sends travels this one ordered path, replies to sends
 *   included, so nothing is ever reordered between two HTTP responses.
 * - Stream mode (default) keeps a recv open and writes one array per batch; it is recycled after
 *   `maxCometStreamDuration` at most (at random in its second half: recv.ts `streamLifetime`).
 *   Polling mode (`stream=false`) answers each recv with one array.
 * - An idle recv gets a HEARTBEAT every maxIdleInterval/3 (the node's heartbeat loop calls `tick`).
 * - No recv for maxIdleInterval plus one heartbeat interval: the transport is gone, the session
 *   stays resumable for connectionStateTtl.
 * - A final frame (ERROR, DISCONNECTED, CLOSED) ends the held recv. If none is held, an ERROR or
 *   DISCONNECTED waits for one recv (at most maxIdleInterval) so that the client still learns why
 *   its connection ended.
 * - What went to an SSE stream, or to the polled answers of a client that acknowledges them
 *   (`ack=` on connect and every recv), is kept until the client confirms it (replay.ts): a client
 *   coming back with an older position gets the frames after it again.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Action, type AblyError, type Format } from '@encke/protocol';
import type { NodeContext } from '../../context.js';
import type { ConnectionIssued, Inbound, Transport, TransportOwner } from '../../session/port.js';
import { ParkedResponse, type NextRequestReader, type ParkOwner, type Parkable } from '../../http/parked.js';
import { compactTime } from '../../util/compact-time.js';
import { OutboundFrame, encodableFrames, writeAlone } from '../../wire/frame.js';
import type { RecvMode } from './framing/select.js';
import { answerRecv, buffered, destroyRecv, heldRecv, recvExpiry, type RecvResponse, type Recv } from './recv.js';
import { sseEventId } from './replay.js';
import { CometState } from './state.js';
import * as streams from './stream.js';
import { acceptedFormat } from './wire.js';

const HEARTBEAT = new OutboundFrame({ action: Action.HEARTBEAT });

/** Where a comet transport's keys are registered (CometRegistry): requests with them reach it. */
export interface CometKeys {
  issued(transport: CometTransport, issued: ConnectionIssued): void;
  forget(transport: CometTransport, connectionId: string): void;
  /** The transport holds a recv: it is asked to `park()` it if it is still held a while later. */
  holding(transport: CometTransport): void;
  /** Reads a parked socket's next recv without node:http (raw-recv.ts). */
  readonly nextRequest: NextRequestReader | undefined;
}

export class CometTransport extends CometState implements Transport, ParkOwner, Parkable {
  readonly kind = 'comet' as const;

  constructor(
    ctx: NodeContext,
    private readonly registry: CometKeys,
    /** The connection's body format; a request's `Accept` may ask for the other one. */
    readonly format: Format,
    /** Stream mode: hold a recv open across batches. */
    readonly stream: boolean,
    /** The client acknowledges polled answers (`ack=0` on connect): each carries its position. */
    acknowledged = false,
  ) {
    super(ctx, acknowledged);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** A recv is being held (stream open or poll waiting). */
  get recvHeld(): boolean {
    return this.recv !== null;
  }

  /** The held recv is parked off node:http. */
  get recvParked(): boolean {
    return this.recv?.parked != null;
  }

  /** A CONNECTED goes through this transport: requests with its key reach the transport from now on. */
  connected(owner: TransportOwner, issued: ConnectionIssued): void {
    if (this.ended) return;
    this.owner = owner;
    this.connectionId = issued.connectionId;
    this.key = issued.connectionKey;
    this.registry.issued(this, issued);
  }

  // ---- client → server --------------------------------------------------------------------------

  /** Messages of one send, in order. */
  receive(messages: readonly Inbound[]): void {
    const owner = this.owner;
    if (!owner || this.ended) return;
    for (const pm of messages) owner.receive(pm);
  }

  /** The client broke the protocol (undecodable send): fail the connection. */
  fail(err: AblyError): void {
    if (this.owner && !this.ended) this.owner.fail(err);
  }

  /** `GET …/disconnect`: the client drops this transport and will resume; the state stays. */
  disconnect(): void {
    if (this.ended) return;
    this.finish(false);
    this.owner?.transportGone(this);
  }

  // ---- recv -------------------------------------------------------------------------------------

  /**
   * Holds `res` as the recv, answered as `mode` says, ending any older one, and delivers whatever
   * is queued. A plain poll (`mode.short`) is answered at once, with `[]` if nothing is queued.
   */
  attachRecv(req: IncomingMessage, res: ServerResponse, mode: RecvMode): void {
    if (res.destroyed || req.socket.destroyed) return;
    this.attach(res, acceptedFormat(req.headers.accept), mode);
  }

  /** A plain recv read on a parked socket (raw-recv.ts), held there: as attachRecv, without node:http. */
  attachParked(parked: ParkedResponse, accepted: Format | undefined, mode: RecvMode): void {
    this.attach(parked, accepted, mode);
  }

  /**
   * A recv from a client that has the first `confirmed` frames: a Server-Sent Events stream coming
   * back (`Last-Event-ID`) or an acknowledged poll (`ack=`). The frames after them are written
   * again first. False when they are no longer kept (or this connection never wrote them): the
   * client must resume instead.
   */
  continueAfter(req: IncomingMessage, res: ServerResponse, mode: RecvMode, confirmed: number): boolean {
    const again = this.replay?.after(confirmed);
    if (!again || (this.ended && mode.stream)) return false;
    if (res.destroyed || req.socket.destroyed) return true;
    this.attach(res, acceptedFormat(req.headers.accept), mode, again);
    return true;
  }

  private attach(res: RecvResponse, accepted: Format | undefined, mode: RecvMode, again?: OutboundFrame[]): void {
    const format: Format = mode.framing ? 'json' : (accepted ?? this.format);
    if (this.ended) {
      // Lingering only to tell the client why the connection ended (after what it missed, if it says).
      const frames = this.queue;
      this.finish(false);
      this.ctx.metrics.wrote('comet', answerRecv(res, frames, again, format, mode.framing, this.replay));
      return;
    }
    if (this.recv) this.endRecv([]);
    this.recvAborted = false;
    const recv = heldRecv(res, format, mode, recvExpiry(mode, this.ctx.clock, this.ctx.options.maxCometStreamDuration));
    this.recv = recv;
    this.direct = null;
    recv.res?.on('close', () => this.recvClosed(recv));
    if (again && again.length > 0 && mode.stream) {
      this.ctx.metrics.wrote('comet', streams.streamBatch(recv, again, sseEventId(this.key, this.replay!.count)));
    } else if (again && again.length > 0) {
      // A poll: what the client missed and what is queued are one answer.
      const frames = this.queue;
      this.queue = [];
      return this.endRecv(frames, again);
    }
    if (this.queue.length > 0) {
      const frames = this.queue;
      this.queue = [];
      this.deliver(frames);
    }
    if (mode.short && this.recv === recv) this.endRecv([]);
    if (this.recv !== recv) return;
    if (recv.parked) streams.openParked(recv);
    else this.registry.holding(this);
  }

  /**
   * The held recv goes off node:http (http/parked.ts) when it can: an idle connection then costs
   * its socket, its session and this transport, not node:http's per-request state.
   */
  park(): void {
    const recv = this.recv;
    const res = recv?.res;
    if (!recv || !res || this.ended) return;
    const parked = ParkedResponse.take(res.req, res, this, this.registry.nextRequest);
    if (!parked) return;
    recv.parked = parked;
    recv.res = null;
    this.direct = null;
  }

  parkedClosed(parked: ParkedResponse): void {
    if (this.recv?.parked === parked) this.recvClosed(this.recv);
  }

  /**
   * A held recv closed before the server ended it: the client's connection died, or the client is
   * closing (ably-js aborts its recv and sends /close without waiting). Unless a /close, /disconnect
   * or new recv follows, the transport is gone at the next tick, as a WebSocket's would be, rather
   * than after the no-recv timeout. Frames written to it may be lost; the resume replays them.
   */
  private recvClosed(recv: Recv): void {
    if (this.recv !== recv) return;
    this.recv = null;
    this.direct = null;
    this.lastRecvEnd = this.ctx.clock.now();
    // An EventSource reconnects by itself (Last-Event-ID): wait for it as for any next recv.
    this.recvAborted = recv.mode.framing?.name !== 'sse';
  }

  /** Writes a batch to the held recv: another piece of a stream, or the whole answer to a poll. */
  private deliver(frames: readonly OutboundFrame[]): void {
    const recv = this.recv!;
    this.streamed = true;
    if (!recv.mode.stream) return this.endRecv(frames);
    if (recv.mode.framing?.name === 'sse') {
      const count = (this.replay ??= this.newReplay()).record(frames);
      this.streamedTo(recv, streams.streamBatch(recv, frames, sseEventId(this.key, count)));
    } else this.streamedTo(recv, streams.streamBatch(recv, frames));
  }

  /** After a piece of the stream: bytes out, the slow-consumer check, and the stream's end if it is due. */
  private streamedTo(recv: Recv, bytes: number): void {
    this.ctx.metrics.wrote('comet', bytes);
    if (buffered(recv) > this.ctx.options.maxOutboundBuffer) this.slowConsumer();
    else if (streams.streamDone(recv, this.ctx.options.maxIframeBytes)) this.endRecv([]);
  }

  /**
   * Ends the held recv with `frames` as its last batch (an empty array if nothing was written). A
   * poll's answer starts with `again` (frames the client said it missed, already recorded) and,
   * when the client acknowledges, carries the position after it.
   */
  private endRecv(frames: readonly OutboundFrame[], again?: readonly OutboundFrame[]): void {
    const recv = this.recv!;
    this.recv = null;
    this.direct = null;
    this.lastRecvEnd = this.lastOutbound = this.ctx.clock.now();
    if (recv.open) return this.ctx.metrics.wrote('comet', streams.streamEnd(recv, frames));
    const replay = recv.mode.stream ? null : this.replay;
    const res = recv.parked ?? recv.res!;
    this.ctx.metrics.wrote('comet', answerRecv(res, frames, again, recv.format, recv.mode.framing, replay));
  }

  // ---- Transport --------------------------------------------------------------------------------

  write(all: readonly OutboundFrame[]): void {
    if (this.ended) return;
    // A frame no encoder takes is dropped here, for this connection only (reported as a fault).
    const frames = encodableFrames(all, this.recv?.format ?? this.format, this.ctx.faults);
    if (frames.length === 0) return;
    if (this.recv) {
      this.deliver(frames);
      return;
    }
    for (const f of frames) this.queue.push(f);
    if (this.queue.length > this.ctx.options.maxCometQueue) this.slowConsumer();
  }

  /** A fan-out's frame: on an open plain stream its shared chunk in one write (stream.ts), else `writeLast`. */
  writeOne(frame: OutboundFrame): void {
    const socket = this.direct ?? this.directFor(frame);
    if (socket === null) return;
    const chunk = frame.cometIfEncodes(this.directFormat, this.ctx.faults);
    if (chunk === null) return;
    this.streamed = true;
    socket.write(chunk);
    this.ctx.metrics.wrote('comet', chunk.length);
    // (Not ending, not a forever-iframe: the stream goes on after this frame.)
    if (socket.writableLength > this.ctx.options.maxOutboundBuffer) this.slowConsumer();
  }

  /**
   * `writeOne` without a `direct` socket: the held recv's, kept in `direct`, if the frame goes to it as
   * its chunk alone; else null, the frame gone another way (or dropped: no encoder takes it, a fault).
   */
  private directFor(frame: OutboundFrame): Socket | null {
    const recv = this.ended ? null : this.recv;
    const socket = recv === null ? null : streams.directSocket(recv);
    if (socket === null || recv === null) {
      if (recv === null) writeAlone(this, frame);
      else this.writeLast(recv, frame);
      return null;
    }
    const chunk = frame.cometIfEncodes(recv.format, this.ctx.faults);
    if (chunk === null) return null;
    recv.bytes += chunk.length; // (the one direct chunk `Recv.bytes` counts)
    this.directFormat = recv.format;
    return (this.direct = socket);
  }

  /** The frame ends the recv (a poll's shared answer, a stream's last chunk and end; `STREAM_ON`: not yet) in one write. */
  private writeLast(recv: Recv, frame: OutboundFrame): void {
    const { faults, options } = this.ctx;
    const way = streams.lastWay(recv, frame, this.replay === null, faults, options.maxOutboundBuffer);
    if (way === streams.BATCH_WAY) return writeAlone(this, frame);
    this.streamed = true;
    if (way !== streams.STREAM_ON) {
      this.recv = null;
      this.direct = null;
      this.lastRecvEnd = this.lastOutbound = this.ctx.clock.now();
    }
    this.ctx.metrics.wrote('comet', streams.writeLastWay(way, recv, frame));
  }

  terminate(): void {
    if (!this.ended) this.finish(true);
  }

  /** A send is taken whole when it arrives; its size is bounded by `maxCometBodySize`. */
  pauseReading(): void {}

  resumeReading(): void {}

  end(final?: OutboundFrame): void {
    if (this.ended) return;
    if (final) this.queue.push(final);
    const frames = this.queue;
    this.queue = [];
    if (this.recv) {
      this.endRecv(frames);
      this.finish(false);
    } else if (final && final.pm.action !== Action.CLOSED && this.connectionId !== undefined) {
      // Keep the final ERROR or DISCONNECTED for the client's next recv. (CLOSED answers the
      // client's own CLOSE, which no client waits for.)
      this.ended = true;
      this.queue = frames;
      this.linger = this.ctx.clock.setTimeout(() => this.finish(false), this.ctx.options.maxIdleInterval);
    } else {
      this.finish(false);
    }
  }

  tick(now: number): void {
    if (this.ended) return;
    const interval = this.ctx.options.heartbeatInterval;
    const recv = this.recv;
    if (!recv) {
      if (this.recvAborted || now - this.lastRecvEnd > this.ctx.options.maxIdleInterval + interval) this.gone();
      return;
    }
    if (recv.mode.stream && !recv.ending && compactTime(now) >= recv.expires) {
      // Until the client's next recv arrives, what is published waits. A stream written to since
      // the last visit ends right after its next batch, when the channel has just delivered;
      // one that was quiet ends now (so does one that is still ending at the next visit).
      if (!this.streamed) return this.endRecv([]);
      recv.ending = true;
      this.direct = null;
    } else if (recv.ending) return this.endRecv([]);
    if (this.streamed) {
      // Written since the last visit (at most an interval ago): not idle towards the client.
      this.streamed = false;
      this.lastOutbound = now;
    }
    if (now - this.lastOutbound < interval) return;
    this.deliver([HEARTBEAT]);
    this.streamed = false;
    this.lastOutbound = now;
  }

  // ---- endings ----------------------------------------------------------------------------------

  /** The client stopped fetching, or cannot keep up: drop the transport; the session stays resumable. */
  private gone(): void {
    this.finish(true);
    this.owner?.transportGone(this);
  }

  private slowConsumer(): void {
    this.ctx.logger.warn(
      { queued: this.queue.length, buffered: this.recv ? buffered(this.recv) : 0 },
      'dropping slow comet consumer',
    );
    this.ctx.metrics.slowConsumer('comet', this.queue.length);
    this.gone();
  }

  /** Ends for good: the held recv is ended (or cut, `abort`), the registry forgets the transport. */
  private finish(abort: boolean): void {
    this.ended = true;
    this.queue = [];
    this.direct = null;
    this.ctx.clock.clearTimeout(this.linger);
    this.linger = undefined;
    if (this.recv) {
      if (abort) {
        destroyRecv(this.recv);
        this.recv = null;
      } else {
        this.endRecv([]);
      }
    }
    if (this.connectionId !== undefined) this.registry.forget(this, this.connectionId);
  }
}
