/**
 * Leader election over BroadcastChannel and Web Locks (shareConnection without a SharedWorker):
 * every tab of the group asks for the group's lock; the tab holding it is the leader and runs the
 * hub with the real connection; the others' links talk to it over the group's BroadcastChannel.
 * The leader broadcasts the connection's recovery key and presence holders as they change; when
 * its tab goes (closed, or the client closed), the browser gives the lock to the next tab, which
 * recovers the same connection from the last key (same connectionId, msgSerial, channels), takes
 * over the holders, and announces itself; the other tabs' links end and resume on it, re-attaching
 * from their own channelSerials, so nothing is lost or doubled.
 */
import type { ParseJson } from '../util/unknown.js';
import type { Kit } from '../kit.js';
import type { Realtime } from '../realtime.js';
import type { Clock } from '../util/clock.js';
import type { TransportContext } from '../transports/transport.js';
import { Hub } from './hub.js';
import type { Medium } from './medium.js';
import { startUpstream, type UpstreamClient } from './upstream.js';
import { groupName, isToHub, isToTab, type ToHub, type ToTab } from './wire.js';

/** The part of BroadcastChannel used here. */
export interface Bus {
  postMessage(msg: ToHub | ToTab): void;
  onmessage: ((ev: { data: unknown }) => void) | null;
  close(): void;
}

/** What leader election needs from the browser (a fake one in Node tests). */
export interface LeaderEnv {
  readonly kit: Kit;
  readonly clock: Clock;
  /** The group: tabs with the same one share a connection. */
  readonly group: string;
  bus(name: string): Bus;
  /** Asks for the lock; `held` runs while it is held (the lock goes when its promise settles). Abortable while waiting. */
  lock(name: string, signal: AbortSignal, held: () => Promise<void>): void;
  /** The real connection, continuing `recover` when given. */
  upstream(recover: string | undefined): Promise<UpstreamClient>;
  /** Calls `fn` when the page goes away; returns a function that stops. */
  pagehide(fn: () => void): () => void;
}

type State = Extract<ToTab, { t: 'state' }>;

/**
 * A new leader waits this long for the last state of the one before (posted just before it let the
 * lock go; the lock and the BroadcastChannel are separate, so their order is not guaranteed).
 */
export const STATE_WAIT_MS = 100;

/**
 * msgSerials a new leader skips: the previous one may have sent a few after its last state reached
 * this tab, and the server takes a msgSerial it has seen for a re-send (answered, not published).
 * Gaps are allowed; a skipped message is re-sent by its tab and deduplicated by its id.
 */
export const SERIAL_MARGIN = 1000;

/** The recovery key to continue from, with the msgSerial margin. */
export function continueFrom(recoveryKey: string): string {
  const key = (JSON.parse as ParseJson)(recoveryKey);
  // One without a msgSerial goes on as it is: the connection ignores an unreadable key (RTN16f).
  if (typeof key !== 'object' || key === null || !('msgSerial' in key) || typeof key.msgSerial !== 'number')
    return recoveryKey;
  return JSON.stringify({ ...key, msgSerial: key.msgSerial + SERIAL_MARGIN });
}

interface Leading {
  hub: Hub;
  bus: Bus;
  up: UpstreamClient;
  release(): void;
}

export class LeaderMedium implements Medium {
  readonly tab: string;
  private readonly bus: Bus;
  private readonly listeners = new Set<(m: ToTab) => void>();
  private readonly abort = new AbortController();
  private readonly unwatch: () => void;
  /** The last state a leader broadcast: where the next leader continues from. */
  state: State | undefined;
  private leading: Leading | undefined;
  private disposed = false;

  constructor(private readonly env: LeaderEnv) {
    this.tab = env.kit.randomId(9);
    this.bus = env.bus(env.group);
    this.bus.onmessage = (ev) => this.heard(ev.data);
    env.lock(env.group, this.abort.signal, () => new Promise<void>((release) => void this.lead(release)));
    this.unwatch = env.pagehide(() => this.dispose());
  }

  /** Whether this tab holds the connection. */
  get leader(): boolean {
    return this.leading !== undefined;
  }

  post(msg: ToHub): void {
    // The leader's hub listens on a BroadcastChannel object of its own, so it hears its own tab too.
    this.bus.postMessage(msg);
  }

  listen(fn: (m: ToTab) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** What is said on the bus: a hub's message (checked: any script of the origin can post here), else nothing for this tab. */
  private heard(m: unknown): void {
    if (!isToTab(m)) return;
    if (m.t === 'state') this.state = m;
    for (const fn of [...this.listeners]) fn(m);
  }

  private async lead(release: () => void): Promise<void> {
    if (this.disposed) return release();
    const { kit, group, clock } = this.env;
    const id = kit.randomId(9);
    if (this.state) await new Promise<void>((r) => clock.setTimeout(r, STATE_WAIT_MS));
    const previous = this.state;
    const up = await this.env.upstream(previous && continueFrom(previous.recoveryKey));
    const bus = this.env.bus(group);
    const hub = new Hub(kit, up.manager, (msg) => this.say(bus, msg), id);
    if (previous) hub.adopt(previous.holders, previous.tab);
    hub.changed = () => {
      const recoveryKey = up.manager.createRecoveryKey();
      if (recoveryKey) this.say(bus, { t: 'state', hub: id, tab: this.tab, recoveryKey, holders: hub.holders() });
    };
    bus.onmessage = (ev) => isToHub(ev.data) && hub.receive(ev.data);
    this.leading = { hub, bus, up, release };
    if (this.disposed) return this.stepDown();
    this.say(bus, { t: 'leader', hub: id });
  }

  /** A hub's message goes to every tab's links, this tab's too (another BroadcastChannel object). */
  private say(bus: Bus, msg: ToTab): void {
    bus.postMessage(msg);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.unwatch();
    this.abort.abort();
    this.stepDown();
    this.bus.close();
  }

  /** Hands the connection over: this tab's own presence leaves now, the last state goes out, the connection is dropped (not closed). */
  private stepDown(): void {
    const l = this.leading;
    if (!l) return;
    this.leading = undefined;
    l.hub.fromTab(this.tab, { action: this.env.kit.Action.CLOSE });
    l.hub.changed();
    l.up.stop();
    l.bus.close();
    l.release();
  }
}

/** The browser's BroadcastChannel, Web Locks and pagehide. */
export function browserEnv(ctx: TransportContext): LeaderEnv {
  const o = ctx.options;
  const w = globalThis as unknown as {
    navigator: {
      locks: { request(name: string, opts: { signal: AbortSignal }, cb: () => Promise<void>): Promise<void> };
    };
  } & Window;
  return {
    kit: ctx.kit,
    clock: o.clock,
    group: groupName(o),
    bus: (name) => new BroadcastChannel(name) as unknown as Bus,
    lock: (name, signal, held) => void w.navigator.locks.request(name, { signal }, held).catch(() => undefined),
    upstream: async (recover) => startUpstream(ctx.kit, ctx.kit.late.Realtime as typeof Realtime, o, recover),
    pagehide(fn) {
      w.addEventListener('pagehide', fn);
      return () => w.removeEventListener('pagehide', fn);
    },
  };
}

export function leaderMedium(env: LeaderEnv): Medium {
  return new LeaderMedium(env);
}
