/**
 * What the server does while a WebSocket transport's message handler runs (the read that brought a
 * client message), observed on the prototypes until `stop`: sessions and channels queued for the
 * end-of-tick flush, and messages an inbound queue took. For tests of work done "at once" (an ATTACH
 * or a publish with an engine that answers at once).
 */
import { FlushScheduler, InboundQueue, WebSocketTransport } from '@encke/server/internal';

export interface HandlingSpy {
  /** Per session queued (a reply: ATTACHED, ACK, NACK): whether the handler was running. */
  readonly queuedWhileHandling: boolean[];
  /** Per channel queued for its end-of-tick flush (a fan-out): whether the handler was running. */
  readonly fanOutsWhileHandling: boolean[];
  /** Messages an inbound queue took. */
  queueReceives: number;
  stop(): void;
}

export function watchHandling(): HandlingSpy {
  const transport = WebSocketTransport.prototype;
  const scheduler = FlushScheduler.prototype;
  const queue = InboundQueue.prototype;
  const { handleMessage } = transport;
  const { session, channel } = scheduler;
  const { receive } = queue;
  let handling = false;
  const spy: HandlingSpy = {
    queuedWhileHandling: [],
    fanOutsWhileHandling: [],
    queueReceives: 0,
    stop: () => {
      transport.handleMessage = handleMessage;
      scheduler.session = session;
      scheduler.channel = channel;
      queue.receive = receive;
    },
  };
  transport.handleMessage = function (this: WebSocketTransport, ...args: Parameters<typeof handleMessage>) {
    handling = true;
    try {
      handleMessage.apply(this, args);
    } finally {
      handling = false;
    }
  };
  scheduler.session = function (this: FlushScheduler, ...args: Parameters<typeof session>) {
    spy.queuedWhileHandling.push(handling);
    session.apply(this, args);
  };
  scheduler.channel = function (this: FlushScheduler, ...args: Parameters<typeof channel>) {
    spy.fanOutsWhileHandling.push(handling);
    channel.apply(this, args);
  };
  queue.receive = function (this: InboundQueue, ...args: Parameters<typeof receive>) {
    spy.queueReceives++;
    receive.apply(this, args);
  };
  return spy;
}
