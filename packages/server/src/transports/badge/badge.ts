/**
 * The live occupancy badge: `GET /badge/<channel>?key=…` answers `multipart/x-mixed-replace`, the
 * 1996 server-push that browsers still render in an `<img>`: each part is an SVG image of how many
 * members are present on the channel, and the browser replaces the picture with every new part.
 *
 * It is an ordinary session underneath: the transport attaches the channel with presence only,
 * keeps the member set from SYNC and PRESENCE messages, and writes a new image whenever the count
 * changes (and the same one as the heartbeat when idle).
 */
import type { ServerResponse } from 'node:http';
import { AblyError, Action, Err, Flag, PresenceAction, type PresenceMessage } from '@encke/protocol';
import type { NodeContext } from '../../context.js';
import { sendError } from '../../http/respond.js';
import type { ConnectionIssued, Transport, TransportOwner } from '../../session/port.js';
import { writeAlone, type OutboundFrame } from '../../wire/frame.js';
import { badgeSvg } from './svg.js';

export const BADGE_BOUNDARY = 'encke-badge';
const PART_HEAD = 'Content-Type: image/svg+xml\r\n\r\n';

export class BadgeTransport implements Transport {
  readonly kind = 'badge' as const;
  readonly format = 'json' as const;
  private owner: TransportOwner | null = null;
  private opened = false;
  private ended = false;
  private readonly members = new Set<string>();
  private shown = -1;
  private lastWrite: number;

  constructor(
    private readonly ctx: NodeContext,
    private readonly res: ServerResponse,
    private readonly channel: string,
  ) {
    this.lastWrite = ctx.clock.now();
    res.on('close', () => this.closeSession());
  }

  connected(owner: TransportOwner, _issued: ConnectionIssued): void {
    if (this.owner) return;
    this.owner = owner;
    owner.receive({ action: Action.ATTACH, channel: this.channel, flags: Flag.PRESENCE_SUBSCRIBE });
  }

  write(frames: readonly OutboundFrame[]): void {
    for (const frame of frames) {
      const pm = frame.pm;
      if (pm.action === Action.ATTACHED) this.open();
      else if (pm.action === Action.SYNC || pm.action === Action.PRESENCE) this.apply(pm.presence ?? []);
      else if (pm.action === Action.ERROR || pm.action === Action.DETACHED) this.fail(pm.error);
      else if (pm.action === Action.DISCONNECTED || pm.action === Action.CLOSED) this.finish();
    }
    if (this.opened && this.members.size !== this.shown) this.show();
  }

  writeOne(frame: OutboundFrame): void {
    writeAlone(this, frame);
  }

  end(final?: OutboundFrame): void {
    if (final) this.write([final]);
    this.finish();
  }

  tick(now: number): void {
    if (this.opened && !this.ended && now - this.lastWrite >= this.ctx.options.heartbeatInterval) this.show();
  }

  terminate(): void {
    this.ended = true;
    this.res.destroy();
  }

  pauseReading(): void {}

  resumeReading(): void {}

  private apply(changes: readonly PresenceMessage[]): void {
    for (const p of changes) {
      const member = `${p.connectionId ?? ''}:${p.clientId ?? ''}`;
      if (p.action === PresenceAction.LEAVE || p.action === PresenceAction.ABSENT) this.members.delete(member);
      else this.members.add(member);
    }
  }

  private open(): void {
    if (this.opened || this.ended) return;
    this.opened = true;
    this.res.writeHead(200, {
      'Content-Type': `multipart/x-mixed-replace; boundary=${BADGE_BOUNDARY}`,
      'Cache-Control': 'no-store, no-transform',
      'X-Accel-Buffering': 'no',
      'X-Content-Type-Options': 'nosniff',
    });
    this.put(`--${BADGE_BOUNDARY}\r\n${PART_HEAD}`);
  }

  private put(text: string): void {
    this.res.write(text);
    this.ctx.metrics.wrote('badge', Buffer.byteLength(text));
  }

  /**
   * One image, followed at once by the next boundary and part head: Chromium shows a part only
   * once the next one has begun.
   */
  private show(): void {
    if (this.ended) return;
    const svg = badgeSvg(this.members.size);
    this.shown = this.members.size;
    this.lastWrite = this.ctx.clock.now();
    this.put(`${svg}\r\n--${BADGE_BOUNDARY}\r\n${PART_HEAD}`);
    if ((this.res.socket?.writableLength ?? 0) > this.ctx.options.maxOutboundBuffer) {
      this.ctx.metrics.slowConsumer('badge', 0);
      this.terminate();
    }
  }

  private fail(error: { code: number; statusCode: number; message: string } | undefined): void {
    if (!this.opened && !this.ended) {
      this.ended = true;
      sendError(
        this.res,
        new AblyError(
          error ?? { code: Err.internal.code, statusCode: 500, message: 'Channel detached' },
          error?.message,
        ),
      );
      this.closeSession();
      return;
    }
    this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.opened) this.res.end();
    else if (!this.res.headersSent) sendError(this.res, new AblyError(Err.disconnected, 'Connection ended'));
    this.closeSession();
  }

  private closeSession(): void {
    this.ended = true;
    const owner = this.owner;
    this.owner = null;
    owner?.receive({ action: Action.CLOSE });
  }
}
