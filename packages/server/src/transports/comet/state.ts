/**
 * What a comet transport holds between requests: CometTransport's state (comet-transport.ts has
 * what it does with it). A base class so that the fields a fan-out's delivery reads come first in
 * the object, right after its header, in as few cache lines as can be: in a fan-out to 1,000
 * connections each connection's objects are cold, and every object or line a delivery touches is a
 * cache miss (bench/README.md, "Comet streaming: a delivery's cache misses").
 */
import type { Socket } from 'node:net';
import type { Format } from '@encke/protocol';
import type { NodeContext } from '../../context.js';
import type { TransportOwner } from '../../session/port.js';
import type { TimerHandle } from '../../util/clock.js';
import type { OutboundFrame } from '../../wire/frame.js';
import type { Recv } from './recv.js';
import { REPLAY_FRAMES, RecvReplay } from './replay.js';

export abstract class CometState {
  /**
   * The held recv's socket while a fan-out's frame goes to it as its chunk alone (`streams.directSocket`),
   * in `directFormat`: found by the first such frame, null again as soon as the recv changes (a new or no
   * recv, `ending`, parked, ended). A delivery then reads the transport and the socket, not the recv and
   * its parked response.
   */
  protected direct: Socket | null = null;
  protected directFormat: Format = 'json';
  /** A batch was streamed since the last heartbeat visit (`tick` turns it into `lastOutbound`: a delivery reads no clock). */
  protected streamed = false;
  protected readonly ctx: NodeContext;
  protected owner: TransportOwner | null = null;
  /** The connection's id once a CONNECTED went through this transport (its keys are registered under it). */
  protected connectionId: string | undefined = undefined;
  /** The newest connection key this transport carried (SSE event ids name it). */
  protected key = '';
  /**
   * What the SSE streams or acknowledged polls of this connection wrote, until the client confirms
   * it; null until an SSE stream is used or unless the connect asked for acknowledged polling.
   */
  protected replay: RecvReplay | null = null;
  protected recv: Recv | null = null;
  protected queue: OutboundFrame[] = [];
  protected ended = false;
  protected lastRecvEnd: number;
  /** The held recv was cut by the client side; the transport is gone at the next tick unless another recv comes. */
  protected recvAborted = false;
  protected lastOutbound: number;
  protected linger: TimerHandle | undefined = undefined;

  /** `acknowledged`: the client acknowledges polled answers (`ack=0` on connect): each carries its position. */
  constructor(ctx: NodeContext, acknowledged: boolean) {
    this.ctx = ctx;
    this.lastRecvEnd = this.lastOutbound = ctx.clock.now();
    if (acknowledged) this.replay = this.newReplay();
  }

  protected newReplay(): RecvReplay {
    return new RecvReplay(Math.min(this.ctx.options.maxCometQueue, REPLAY_FRAMES));
  }
}
