/**
 * A tab's side of a shared connection (`shareConnection`, docs/client.md "One connection per
 * browser"): the `shared` attempt of the connector. Its transport is a link to the hub that holds
 * the one real connection (in a SharedWorker, or in the leader tab), spoken in ProtocolMessages as
 * with a server, so the tab's connection, channels, presence and outbox work unchanged. This module
 * (and what it loads) is not part of the core: it is imported only when `shareConnection` is set.
 */
import type { ProtocolMessage } from '@encke/protocol/types';
import type { ErrorInfo } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import type { TransportName } from '../transports/names.js';
import type { Transport, TransportContext, TransportModule, TransportSink } from '../transports/transport.js';
import type { Medium } from './medium.js';
import { isTransportName, type ToTab } from './wire.js';

/** A link with no hub yet says hello again this often (a leader may be starting). */
export const HELLO_MS = 250;

/** One medium per client (its options object): the tab's id and leadership outlive each link. */
const media = new WeakMap<ResolvedOptions, Promise<Medium>>();

/** The medium of a client: a SharedWorker's port when there can be one, else leader election. */
async function mediumFor(ctx: TransportContext): Promise<Medium> {
  const o = ctx.options;
  let m = media.get(o);
  if (!m) {
    const worker =
      o.shareConnection === true && o.sharedWorkerUrl && typeof SharedWorker === 'function' && !o.authCallback;
    m = worker
      ? import('./worker-port.js').then((w) => w.workerMedium(ctx))
      : import('./leader.js').then((l) => l.leaderMedium(l.browserEnv(ctx)));
    media.set(o, m);
  }
  return m;
}

export class Link implements Transport {
  /** The shared connection's transport, as the hub says with CONNECTED. */
  name: TransportName = 'web_socket';
  private hub: string | undefined;
  private done = false;
  private readonly unlisten: () => void;
  private hello: unknown;

  constructor(
    private readonly ctx: TransportContext,
    private readonly medium: Medium,
    private readonly sink: TransportSink,
  ) {
    this.unlisten = medium.listen((m) => this.receive(m));
    const clock = ctx.options.clock;
    const open = (): void => {
      if (this.done || this.hub) return;
      this.hi();
      this.hello = clock.setTimeout(open, HELLO_MS);
    };
    open();
  }

  /** Says who this tab is to the hub. */
  private hi(): void {
    const o = this.ctx.options;
    this.medium.post({
      t: 'open',
      tab: this.medium.tab,
      ...(o.clientId ? { clientId: o.clientId } : {}),
      ...(o.echoMessages ? {} : { noEcho: true }),
    });
  }

  send(pm: ProtocolMessage): void {
    if (!this.done) this.medium.post({ t: 'pm', tab: this.medium.tab, pm });
  }

  /** CLOSE to the hub, which leaves this tab's presence and detaches its channels, then CLOSED. */
  close(): void {
    this.send({ action: this.ctx.kit.Action.CLOSE });
  }

  disconnect(): void {
    if (this.done) return;
    this.medium.post({ t: 'bye', tab: this.medium.tab });
    this.finish(undefined);
  }

  private receive(m: ToTab): void {
    if (this.done) return;
    const { kit } = this.ctx;
    if (m.t === 'state') return;
    if (m.t === 'leader') {
      // A new hub: the one this link had is gone (lost, and the tab resumes), or there was none yet.
      if (this.hub !== undefined && m.hub !== this.hub)
        this.finish(kit.ErrorInfo.of(kit.Err.disconnected, 'The shared connection moved to another tab'));
      else if (this.hub === undefined) this.hi();
      return;
    }
    if (m.to !== this.medium.tab) return;
    this.hub ??= m.hub;
    if (m.hub !== this.hub) return;
    if (m.t === 'lost')
      return this.finish(new kit.ErrorInfo(m.error.message, m.error.code, m.error.statusCode), m.fatal);
    if (isTransportName(m.transport)) this.name = m.transport;
    this.sink.onMessage(m.pm);
    if (m.pm.action === kit.Action.CLOSED) {
      this.finish(undefined);
      this.medium.dispose();
    }
  }

  private finish(err: ErrorInfo | undefined, fatal = false): void {
    if (this.done) return;
    this.done = true;
    this.ctx.options.clock.clearTimeout(this.hello);
    this.unlisten();
    this.sink.onClose(err, fatal);
  }
}

/** Is sharing possible here: BroadcastChannel and Web Locks (leader election), or a SharedWorker. */
export function possible(ctx: TransportContext): boolean {
  const g = globalThis as { BroadcastChannel?: unknown; navigator?: { locks?: unknown } };
  return (
    (typeof g.BroadcastChannel === 'function' && !!g.navigator?.locks) ||
    (!!ctx.options.sharedWorkerUrl && typeof SharedWorker === 'function')
  );
}

export async function load(): Promise<TransportModule> {
  return {
    // Where sharing is impossible the link fails the connection with why (a connection of the
    // tab's own would silently defeat the option).
    supported: () => true,
    create(ctx, sink) {
      return new Pending(ctx, sink);
    },
  };
}

/** The link as soon as the medium is ready (it is loaded on the first attempt). */
class Pending implements Transport {
  name: TransportName = 'web_socket';
  private link: Link | undefined;
  private closed = false;
  private dropped = false;

  constructor(ctx: TransportContext, sink: TransportSink) {
    const { Err, ErrorInfo } = ctx.kit;
    if (!possible(ctx)) {
      const why = 'shareConnection needs BroadcastChannel and Web Locks, or a SharedWorker (sharedWorkerUrl)';
      queueMicrotask(() => sink.onClose(ErrorInfo.of(Err.connectionFailed, why), true));
      return;
    }
    mediumFor(ctx).then(
      (medium) => {
        if (this.dropped) return;
        this.link = new Link(ctx, medium, {
          onMessage: (pm) => {
            if (this.link) this.name = this.link.name;
            sink.onMessage(pm);
          },
          onClose: (err, fatal) => sink.onClose(err, fatal),
        });
        if (this.closed) this.link.close();
      },
      (err: unknown) => sink.onClose(ErrorInfo.from(err, Err.connectionFailed)),
    );
  }

  send(pm: ProtocolMessage): void {
    this.link?.send(pm);
  }

  close(): void {
    this.closed = true;
    this.link?.close();
  }

  disconnect(): void {
    this.dropped = true;
    this.link?.disconnect();
  }
}
