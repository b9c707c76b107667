/**
 * One try of one transport, up to CONNECTED or its failure: the server's ERROR or DISCONNECTED,
 * a transport that cannot connect, or one that stays silent past its deadline (a stall).
 */
import type { ProtocolMessage } from '@encke/protocol/types';
import { Action } from '@encke/protocol/constants';
import { Err, ErrorInfo } from '../errors.js';
import type { Transport, TransportContext, TransportModule, TransportSink } from '../transports/transport.js';

export type Outcome =
  | { kind: 'connected'; transport: Transport; pm: ProtocolMessage }
  /** The server answered, with an error: not the transport's fault. */
  | { kind: 'refused'; err: ErrorInfo }
  /** The transport failed or stalled; `fatal` when its failure means the connection must fail. */
  | { kind: 'transport-failed'; err: ErrorInfo; fatal: boolean };

/** Where a connected transport's later events go. */
export interface LiveSink {
  onMessage(t: Transport, pm: ProtocolMessage): void;
  onClose(t: Transport, err: ErrorInfo | undefined, fatal: boolean): void;
}

export function tryTransport(
  mod: TransportModule,
  ctx: TransportContext,
  deadlineMs: number,
  live: LiveSink,
  started: (t: Transport) => void,
): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    let transport: Transport | undefined;
    const settle = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      ctx.options.clock.clearTimeout(timer);
      if (outcome.kind !== 'connected') transport?.disconnect();
      resolve(outcome);
    };
    const timer = ctx.options.clock.setTimeout(() => {
      settle({
        kind: 'transport-failed',
        err: ErrorInfo.of(Err.connectionTimedOut, `No CONNECTED within ${deadlineMs} ms`),
        fatal: false,
      });
    }, deadlineMs);
    const sink: TransportSink = {
      onMessage(pm) {
        if (settled) {
          if (transport) live.onMessage(transport, pm);
          return;
        }
        if (pm.action === Action.CONNECTED && transport) settle({ kind: 'connected', transport, pm });
        else if (pm.action === Action.ERROR || pm.action === Action.DISCONNECTED)
          settle({ kind: 'refused', err: ErrorInfo.from(pm.error, Err.connectionFailed) });
      },
      onClose(err, fatal) {
        if (settled) {
          if (transport) live.onClose(transport, err, fatal ?? false);
          return;
        }
        settle({
          kind: 'transport-failed',
          err: err ?? ErrorInfo.of(Err.disconnected, 'Transport closed before CONNECTED'),
          fatal: fatal ?? false,
        });
      },
    };
    try {
      transport = mod.create(ctx, sink);
      started(transport);
    } catch (err) {
      settle({ kind: 'transport-failed', err: ErrorInfo.from(err, Err.connectionFailed), fatal: false });
    }
  });
}
