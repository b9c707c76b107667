/**
 * The hub: one real connection shared by the tabs of an origin (docs/client.md "One connection per
 * browser"). It runs in a SharedWorker or in the leader tab. Each tab's link talks to it as to a
 * server; the hub multiplexes upstream:
 * - channels: attached once upstream while any tab wants them; each tab gets its own ATTACHED and
 *   the channel's messages, each exactly once and in order (per tab, by channelSerial: a tab that
 *   comes back from an older serial makes the hub re-attach from it, and the others skip the
 *   replay); a tab joining an attached channel gets the presence set as a SYNC of its own;
 * - publishes and presence: sent upstream with the connection's msgSerial, ACKed or NACKed to the
 *   tab with its own; every message and presence item carries the tab's clientId (members are
 *   keyed by connectionId + clientId, so each tab's identity is a member of its own; tabs with the
 *   same clientId are one member, present while any of them is entered);
 * - connection state: a tab is CONNECTED while the shared connection is (same connectionId, the
 *   tab's clientId); when it is lost each tab's link ends, and the tabs resume on the next CONNECTED.
 */
import type { ConnectionDetails, ProtocolMessage } from '@encke/protocol/types';
import type { ConnectionHooks, ConnectionManager } from '../connection/manager.js';
import type { ConnectionState } from '../connection/types.js';
import type { ErrorInfo } from '../errors.js';
import type { Kit } from '../kit.js';
import { holdPresence, leaveMessage, newChannel, track, type Channel } from './hub-channel.js';
import { before, type Holders, type TabPost, type ToHub, type WireError } from './wire.js';

/** What the hub needs of the real connection (a ConnectionManager; a fake one in tests). */
export type Upstream = Pick<
  ConnectionManager,
  'state' | 'id' | 'key' | 'details' | 'transport' | 'hooks' | 'sendAckable' | 'send'
>;

interface TabChannel {
  /** The last channelSerial this tab has (from its ATTACH, then from what it was given). */
  last: string | undefined;
  /** ATTACHED given: the channel's messages go to this tab. */
  attached: boolean;
}

interface Tab {
  readonly id: string;
  clientId: string | undefined;
  /** `echoMessages: false`: ids of its messages in flight, not delivered back to it. */
  noEcho: Set<string> | undefined;
  /** The link is open (between `open` and `bye`, a loss or CLOSE). */
  live: boolean;
  /** CONNECTED given on this link. */
  connected: boolean;
  readonly channels: Map<string, TabChannel>;
}

const LOST_STATES: readonly ConnectionState[] = ['disconnected', 'suspended', 'failed', 'closed'];

export class Hub implements ConnectionHooks {
  private readonly tabs = new Map<string, Tab>();
  private readonly channels = new Map<string, Channel>();
  /** channel → clientId → the tabs that entered it: a LEAVE goes upstream when the last one leaves. */
  private readonly held = new Map<string, Map<string, Set<string>>>();
  /** Why the shared connection failed (final): told to every tab that comes. */
  private failure: WireError | undefined;
  /** Called after anything that changes what a successor needs to continue the connection. */
  changed: () => void = () => undefined;

  constructor(
    private readonly kit: Kit,
    private readonly up: Upstream,
    private readonly post: TabPost,
    /** This hub's id: links know which hub they are connected to. */
    readonly id: string,
  ) {
    up.hooks = this;
  }

  /** The tabs with a link open. */
  get liveTabs(): number {
    let n = 0;
    for (const t of this.tabs.values()) if (t.live) n++;
    return n;
  }

  // ---- from tabs ----

  /** What a tab's link says. */
  receive(m: ToHub): void {
    if (m.t === 'open') this.open(m.tab, m.clientId, m.noEcho === true);
    else if (m.t === 'bye') this.bye(m.tab);
    else if (m.t === 'pm') this.fromTab(m.tab, m.pm);
  }

  open(tabId: string, clientId: string | undefined, noEcho = false): void {
    let tab = this.tabs.get(tabId);
    if (tab?.live) return; // a link still waiting says hello again
    if (!tab) {
      tab = {
        id: tabId,
        clientId,
        noEcho: noEcho ? new Set() : undefined,
        live: true,
        connected: false,
        channels: new Map(),
      };
      this.tabs.set(tabId, tab);
    }
    tab.live = true;
    tab.clientId = clientId;
    if (this.failure) this.lose(tab, this.failure);
    else if (this.up.state === 'connected') this.connectTab(tab);
  }

  /** The tab's link was dropped: nothing more goes to it until it opens again and re-attaches. */
  bye(tabId: string): void {
    const tab = this.tabs.get(tabId);
    if (tab) this.unlink(tab);
  }

  fromTab(tabId: string, pm: ProtocolMessage): void {
    const tab = this.tabs.get(tabId);
    if (!tab?.connected) return;
    const { Action } = this.kit;
    switch (pm.action) {
      case Action.ATTACH:
        return this.attachTab(tab, pm);
      case Action.DETACH:
        this.detachTab(tab, pm.channel ?? '');
        return this.toTab(tab, { action: Action.DETACHED, channel: pm.channel });
      case Action.MESSAGE:
        for (const m of pm.messages ?? []) if (tab.clientId !== undefined) m.clientId ??= tab.clientId;
        // The echo comes back as one ProtocolMessage: its first message's id identifies it.
        if (pm.messages?.[0]?.id) tab.noEcho?.add(pm.messages[0].id);
        return this.forward(tab, pm);
      case Action.PRESENCE:
        return this.presence(tab, pm);
      case Action.HEARTBEAT:
        return this.toTab(tab, { action: Action.HEARTBEAT, id: pm.id });
      case Action.AUTH:
        // The hub renews its own credentials; the tab's AUTH is answered as the server would.
        return this.connectTab(tab);
      case Action.CLOSE:
        return this.closeTab(tab);
    }
  }

  // ---- from the shared connection (ConnectionHooks) ----

  onConnected(): void {
    // Every channel a tab wants is attached again, from where the hub has got to.
    for (const ch of this.channels.values()) this.attachUpstream(ch, ch.serial);
    for (const tab of this.tabs.values()) if (tab.live && !tab.connected) this.connectTab(tab);
    this.changed();
  }

  onState(state: ConnectionState, reason: ErrorInfo | undefined): void {
    if (!LOST_STATES.includes(state)) return;
    const { Err, ErrorInfo } = this.kit;
    const err = reason ?? ErrorInfo.of(Err.disconnected, `The shared connection is ${state}`);
    const error: WireError = { message: err.message, code: err.code, statusCode: err.statusCode };
    for (const ch of this.channels.values()) ch.state = 'detached';
    // Failed is final: every tab hears why, also those still waiting and those that come later.
    this.failure = state === 'failed' ? error : undefined;
    for (const tab of this.tabs.values()) {
      // A link still waiting for CONNECTED keeps waiting (up to its own deadline) for the next one.
      if (tab.connected || (this.failure && tab.live)) this.lose(tab, error);
    }
  }

  private lose(tab: Tab, error: WireError): void {
    this.unlink(tab);
    this.post({ t: 'lost', to: tab.id, hub: this.id, error, fatal: this.failure !== undefined });
  }

  onMessage(pm: ProtocolMessage): void {
    const ch = this.channels.get(pm.channel ?? '');
    if (!ch) return;
    const { Action } = this.kit;
    switch (pm.action) {
      case Action.ATTACHED:
        return this.attached(ch, pm);
      case Action.MESSAGE:
      case Action.PRESENCE:
        if (pm.action === Action.PRESENCE) track(this.kit, ch, pm);
        return this.deliver(ch, pm);
      case Action.SYNC:
        track(this.kit, ch, pm);
        return this.eachAttached(ch, (tab) => this.toTab(tab, pm));
      case Action.DETACHED:
      case Action.ERROR:
        // The server ended the attachment: each tab hears it and re-attaches (or fails) as it would.
        ch.state = 'detached';
        for (const tab of this.tabs.values()) {
          const tc = tab.channels.get(ch.name);
          if (!tc || !tab.connected) continue;
          tc.attached = false;
          this.toTab(tab, pm);
        }
        if (pm.action === Action.ERROR) this.channels.delete(ch.name);
    }
  }

  /** Who holds which presence identity: carried to the next leader with the recovery key. */
  holders(): Holders {
    const out: Holders = {};
    for (const [channel, ids] of this.held)
      out[channel] = Object.fromEntries([...ids].map(([clientId, tabs]) => [clientId, [...tabs]]));
    return out;
  }

  /** A new hub continuing a connection takes over its holders (without the tab that is gone). */
  adopt(holders: Holders, gone: string | undefined): void {
    for (const [channel, ids] of Object.entries(holders)) {
      for (const [clientId, tabs] of Object.entries(ids)) {
        const set = new Set(tabs.filter((t) => t !== gone));
        if (set.size > 0) this.holdersOf(channel).set(clientId, set);
      }
    }
  }

  /** channelSerials for the connection's recovery key: where the hub has got to on each channel. */
  serials(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const ch of this.channels.values()) if (ch.serial) out[ch.name] = ch.serial;
    return out;
  }

  // ---- connection ----

  private connectTab(tab: Tab): void {
    const { Action } = this.kit;
    const pm: ProtocolMessage = { action: Action.CONNECTED, connectionId: this.up.id };
    // The server's details, as the tab: none if its CONNECTED had none (the tab then has what its own
    // connection would). The link is in memory: no idle deadline of the tab's own (0; the hub has the real one).
    const up = this.up.details;
    if (up) {
      const details: ConnectionDetails = { ...up, connectionKey: this.up.key ?? '', maxIdleInterval: 0 };
      const clientId = tab.clientId ?? up.clientId;
      if (clientId) details.clientId = clientId;
      pm.connectionDetails = details;
    }
    tab.connected = true;
    this.post({
      t: 'pm',
      to: tab.id,
      hub: this.id,
      pm,
      ...(this.up.transport ? { transport: this.up.transport } : {}),
    });
  }

  private unlink(tab: Tab): void {
    tab.live = false;
    tab.connected = false;
    for (const tc of tab.channels.values()) tc.attached = false;
  }

  private closeTab(tab: Tab): void {
    for (const name of [...tab.channels.keys()]) this.detachTab(tab, name);
    this.tabs.delete(tab.id);
    this.toTab(tab, { action: this.kit.Action.CLOSED });
    this.changed();
  }

  private toTab(tab: Tab, pm: ProtocolMessage): void {
    this.post({ t: 'pm', to: tab.id, hub: this.id, pm });
  }

  // ---- channels ----

  private attachTab(tab: Tab, pm: ProtocolMessage): void {
    const name = pm.channel ?? '';
    let ch = this.channels.get(name);
    if (!ch) {
      ch = newChannel(name, pm);
      this.channels.set(name, ch);
    }
    const tc: TabChannel = { last: pm.channelSerial, attached: false };
    tab.channels.set(name, tc);
    const behind = tc.last !== undefined && ch.serial !== undefined && before(tc.last, ch.serial);
    if (ch.state === 'attached' && !behind) return this.join(tab, ch, tc);
    // First tab, or one that has less than the hub: attach (again) from its serial; tabs ahead skip the replay.
    if (ch.state !== 'attaching' || behind) this.attachUpstream(ch, behind ? tc.last : (tc.last ?? ch.serial));
  }

  private attachUpstream(ch: Channel, from: string | undefined): void {
    const pm: ProtocolMessage = { ...ch.request, channel: ch.name };
    delete pm.channelSerial;
    if (from) pm.channelSerial = from;
    // Where the hub has got to, at the least: a tab that comes with less is behind (attach again for it).
    ch.serial ??= from;
    ch.state = 'attaching';
    this.up.send(pm);
  }

  /** A tab joins a channel attached upstream: its ATTACHED, and the members as a SYNC of its own. */
  private join(tab: Tab, ch: Channel, tc: TabChannel): void {
    const { Action, Flag, PresenceAction } = this.kit;
    const base = ch.attachedPm ?? { action: Action.ATTACHED, channel: ch.name };
    let flags = (base.flags ?? 0) & ~Flag.RESUMED;
    if (tc.last !== undefined) flags |= Flag.RESUMED;
    if (ch.members.size > 0) flags |= Flag.HAS_PRESENCE;
    const pm: ProtocolMessage = { ...base, flags };
    if (ch.serial) pm.channelSerial = ch.serial;
    tc.attached = true;
    tc.last = ch.serial ?? tc.last;
    this.toTab(tab, pm);
    if ((flags & Flag.HAS_PRESENCE) === 0) return;
    const presence = [...ch.members.values()].map((m) => ({ ...m, action: PresenceAction.PRESENT }));
    this.toTab(tab, { action: Action.SYNC, channel: ch.name, channelSerial: `${this.id}:`, presence });
  }

  private attached(ch: Channel, pm: ProtocolMessage): void {
    const { Flag } = this.kit;
    const resumed = ((pm.flags ?? 0) & Flag.RESUMED) !== 0;
    ch.state = 'attached';
    ch.attachedPm = pm;
    if (pm.channelSerial && !(ch.serial && before(pm.channelSerial, ch.serial))) ch.serial = pm.channelSerial;
    if ((pm.flags ?? 0) & Flag.HAS_PRESENCE) ch.residual ??= new Set(ch.members.keys());
    else if (!resumed) ch.members.clear();
    for (const tab of this.tabs.values()) {
      const tc = tab.channels.get(ch.name);
      if (!tc || !tab.connected) continue;
      // Tabs already attached hear only an attachment that lost continuity (their `update`).
      if (tc.attached && resumed) continue;
      tc.attached = true;
      if (!resumed) tc.last = undefined;
      this.toTab(tab, pm);
    }
  }

  /** A channel's MESSAGE or PRESENCE to each attached tab that does not have it yet. */
  private deliver(ch: Channel, pm: ProtocolMessage): void {
    const serial = pm.channelSerial;
    if (serial && !(ch.serial && before(serial, ch.serial))) ch.serial = serial;
    this.eachAttached(ch, (tab, tc) => {
      if (serial && tc.last !== undefined && (serial === tc.last || before(serial, tc.last))) return;
      if (serial) tc.last = serial;
      if (!this.ownEcho(tab, pm)) this.toTab(tab, pm);
    });
  }

  /** Is this the echo of a message a tab without echo published? (Then it is not delivered to it.) */
  private ownEcho(tab: Tab, pm: ProtocolMessage): boolean {
    const id = pm.messages?.[0]?.id;
    return id !== undefined && pm.action === this.kit.Action.MESSAGE && tab.noEcho?.delete(id) === true;
  }

  private eachAttached(ch: Channel, fn: (tab: Tab, tc: TabChannel) => void): void {
    for (const tab of this.tabs.values()) {
      const tc = tab.channels.get(ch.name);
      if (tc?.attached && tab.connected) fn(tab, tc);
    }
  }

  private detachTab(tab: Tab, name: string): void {
    tab.channels.delete(name);
    const held = this.holdersOf(name);
    for (const [clientId, tabs] of held) {
      if (!tabs.delete(tab.id) || tabs.size > 0) continue;
      held.delete(clientId);
      this.up.sendAckable(leaveMessage(this.kit, name, clientId)).catch(() => undefined);
    }
    if (held.size === 0) this.held.delete(name);
    if (!this.channels.has(name)) return;
    for (const other of this.tabs.values()) if (other.channels.has(name)) return;
    this.channels.delete(name);
    this.up.send({ action: this.kit.Action.DETACH, channel: name });
  }

  private holdersOf(channel: string): Map<string, Set<string>> {
    let held = this.held.get(channel);
    if (!held) this.held.set(channel, (held = new Map<string, Set<string>>()));
    return held;
  }

  // ---- publishes and presence ----

  /** Sends upstream; the tab hears ACK or NACK under its own msgSerial. */
  private forward(tab: Tab, pm: ProtocolMessage): void {
    const { Action } = this.kit;
    const { msgSerial, ...rest } = pm;
    const settled = this.up.sendAckable(rest).then(
      (res) => this.toTab(tab, { action: Action.ACK, msgSerial, count: 1, ...(res ? { res: [res] } : {}) }),
      (err: ErrorInfo) =>
        this.toTab(tab, {
          action: Action.NACK,
          msgSerial,
          count: 1,
          error: { message: err.message, code: err.code, statusCode: err.statusCode },
        }),
    );
    void settled;
    this.changed();
  }

  /** ENTER/UPDATE go upstream; a LEAVE only when no other tab holds that clientId (else ACKed here). */
  private presence(tab: Tab, pm: ProtocolMessage): void {
    const held = this.holdersOf(pm.channel ?? '');
    if (!holdPresence(this.kit, held, tab.id, tab.clientId, pm.presence ?? [])) return this.forward(tab, pm);
    this.toTab(tab, { action: this.kit.Action.ACK, msgSerial: pm.msgSerial, count: 1 });
  }
}
