/**
 * How a session keeps the state that few connections use (bench S3: 10,000 idle connections, each
 * attached to one channel). An idle connection uses none of it, so it is one object made by the
 * first of them and dropped when none is left, instead of seven fields in every session (56 bytes).
 * Session (session.ts) extends this and reads and writes these as if they were its own fields.
 */
import type { OutboundFrame } from '../wire/frame.js';
import type { TimerHandle } from '../util/clock.js';
import { AckLedger } from './ack-ledger.js';
import type { Membership } from './membership.js';
import type { TokenExpiry } from './token-expiry.js';
import type { Upgrades } from './upgrade.js';

/** `msgSerialHigh` of a connection that has published nothing (AckLedger's start). */
const NO_MSG_SERIAL = -1;

class SessionExtras {
  ledger: AckLedger | null = null;
  more: OutboundFrame[] | null = null;
  expiry: TimerHandle | undefined = undefined;
  membership: Membership | null = null;
  tokenExpiry: TokenExpiry | null = null;
  upgrades: Upgrades | null = null;
  /** The secret of a connection taken over from another node (others derive theirs: connection-key.ts). */
  secret: string | undefined = undefined;

  get empty(): boolean {
    return (
      this.ledger === null &&
      this.more === null &&
      this.expiry === undefined &&
      this.membership === null &&
      this.tokenExpiry === null &&
      this.upgrades === null &&
      this.secret === undefined
    );
  }
}

type Extra = Exclude<keyof SessionExtras, 'empty'>;

export abstract class SessionFields {
  private extras: SessionExtras | null = null;

  /** Sets one of the rare parts; the object is made by the first and dropped with the last. */
  private setExtra<K extends Extra>(key: K, value: SessionExtras[K]): void {
    let extras = this.extras;
    if (extras === null) {
      if (value === null || value === undefined) return;
      extras = this.extras = new SessionExtras();
    }
    extras[key] = value;
    if (extras.empty) this.extras = null;
  }

  /** What this connection has published: exactly-once answers to re-sent msgSerials. */
  get acks(): AckLedger {
    return (this.ledger ??= new AckLedger());
  }

  /** The highest msgSerial processed (kept in the shared record). */
  get msgSerialHigh(): number {
    return this.ledger?.high ?? NO_MSG_SERIAL;
  }

  /** What this connection has published (exactly-once answers); made by its first publish. */
  protected get ledger(): AckLedger | null {
    return this.extras?.ledger ?? null;
  }
  protected set ledger(ledger: AckLedger | null) {
    this.setExtra('ledger', ledger);
  }

  /** The frames after `first`, when a tick has more than one for this connection (a fan-out has one). */
  protected get more(): OutboundFrame[] | null {
    return this.extras?.more ?? null;
  }
  protected set more(frames: OutboundFrame[] | null) {
    this.setExtra('more', frames);
  }

  /** While disconnected: the end of the wait for a resume (connectionStateTtl). */
  protected get expiry(): TimerHandle | undefined {
    return this.extras?.expiry;
  }
  protected set expiry(timer: TimerHandle | undefined) {
    this.setExtra('expiry', timer);
  }

  /** This connection's presence members; created when it first has some. */
  protected get membership(): Membership | null {
    return this.extras?.membership ?? null;
  }
  protected set membership(membership: Membership | null) {
    this.setExtra('membership', membership);
  }

  /** Fires at the token's expiry while the session has a transport; made for the first token that expires. */
  protected get tokenExpiry(): TokenExpiry | null {
    return this.extras?.tokenExpiry ?? null;
  }
  protected set tokenExpiry(expiry: TokenExpiry | null) {
    this.setExtra('tokenExpiry', expiry);
  }

  /** Transports waiting for ACTIVATE (ably-js 1.x upgrade, upgrade.ts); null when none. */
  protected get upgrades(): Upgrades | null {
    return this.extras?.upgrades ?? null;
  }
  protected set upgrades(upgrades: Upgrades | null) {
    this.setExtra('upgrades', upgrades);
  }

  /** A secret of its own (a connection taken over from another node); undefined: derived from the id. */
  protected get ownSecret(): string | undefined {
    return this.extras?.secret;
  }
  protected set ownSecret(secret: string | undefined) {
    this.setExtra('secret', secret);
  }
}
