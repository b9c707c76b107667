/**
 * Records what the server's WebSocket transports write, call by call (fan-out-writes,
 * connected-write): the outermost `write` or `writeOne` of a transport, with the protocol messages
 * it carried and whether its open could still connect alone (Transport.connectsAlone).
 */
import type { ProtocolMessage } from '@encke/protocol';
import { type OutboundFrame, WebSocketTransport } from '@encke/server/internal';

/** One outermost write call of a WebSocket transport. */
export interface WriteCall {
  readonly transport: WebSocketTransport;
  readonly frames: readonly ProtocolMessage[];
  /** Whether it came while the transport's open could connect alone (CONNECTED written at once). */
  readonly alone: boolean;
}

/** Records every write of every WebSocket transport until `stop`. */
export function recordWrites(): { calls: WriteCall[]; stop: () => void } {
  const proto = WebSocketTransport.prototype;
  const { write, writeOne } = proto;
  const calls: WriteCall[] = [];
  let depth = 0;
  const record = (transport: WebSocketTransport, frames: readonly OutboundFrame[], go: () => void): void => {
    if (depth === 0) calls.push({ transport, frames: frames.map((f) => f.pm), alone: transport.connectsAlone });
    depth++;
    try {
      go();
    } finally {
      depth--;
    }
  };
  proto.write = function (this: WebSocketTransport, frames: readonly OutboundFrame[]) {
    record(this, frames, () => write.call(this, frames));
  };
  proto.writeOne = function (this: WebSocketTransport, frame: OutboundFrame) {
    record(this, [frame], () => writeOne.call(this, frame));
  };
  return {
    calls,
    stop: () => {
      proto.write = write;
      proto.writeOne = writeOne;
    },
  };
}
