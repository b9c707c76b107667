/**
 * Which presence members a connection has, by channel, and when they leave: on DETACH of the
 * channel, at once when the connection closes or fails, and `remainPresentFor` after its transport
 * drops abruptly unless it resumes first. Kept current in shared state (a resume elsewhere knows
 * the channels to leave).
 */
import { PresenceAction, type PresenceMessage } from '@encke/protocol';
import type { TimerHandle } from '../util/clock.js';
import { leaveChannel } from './presence.js';
import type { SessionWithContext } from './with-context.js';

/** Stands in for the clientIds of a channel a taken-over connection had members on: never "empty". */
const UNKNOWN_MEMBERS = '\u0000restored';

export class Membership {
  /** channel → clientIds entered there; empty channels are removed. */
  private readonly members = new Map<string, Set<string>>();
  private leaveTimer: TimerHandle | undefined = undefined;

  constructor(
    private readonly session: SessionWithContext,
    restoredChannels: readonly string[] = [],
  ) {
    for (const channel of restoredChannels) this.members.set(channel, new Set([UNKNOWN_MEMBERS]));
  }

  channels(): string[] {
    return [...this.members.keys()];
  }

  get isEmpty(): boolean {
    return this.members.size === 0;
  }

  /** Records the clientIds present on `channel` after applied changes. */
  track(channel: string, changes: readonly PresenceMessage[]): void {
    const had = this.members.has(channel);
    for (const change of changes) {
      if (change.clientId === undefined) continue;
      const set = this.members.get(channel);
      if (change.action === PresenceAction.LEAVE) {
        set?.delete(change.clientId);
        if (set?.size === 0) this.members.delete(channel);
      } else if (set) {
        set.add(change.clientId);
      } else {
        this.members.set(channel, new Set([change.clientId]));
      }
    }
    if (this.members.has(channel) !== had) this.session.ctx.records.presenceChannelsChanged(this.session);
  }

  /** The members on `channel` leave (DETACH); resolves when done. */
  leave(channel: string): Promise<void> | undefined {
    if (!this.members.delete(channel)) return undefined;
    this.session.ctx.records.presenceChannelsChanged(this.session);
    return leaveChannel(this.session, channel);
  }

  /** Every member leaves, on every channel. */
  leaveAll(): void {
    this.cancelLeave();
    const channels = this.channels();
    this.members.clear();
    for (const channel of channels) void leaveChannel(this.session, channel);
  }

  /** The transport dropped: the members leave after `ms` unless the connection resumes first. */
  scheduleLeave(ms: number): void {
    if (this.isEmpty) return;
    this.cancelLeave();
    this.leaveTimer = this.session.ctx.clock.setTimeout(() => this.leaveAll(), ms);
  }

  cancelLeave(): void {
    this.session.ctx.clock.clearTimeout(this.leaveTimer);
    this.leaveTimer = undefined;
  }
}
