/**
 * The memory engine's auth store: TokenRequest nonces and token revocations in maps, each entry
 * forgotten once past its time (checked on access, and swept with the channel logs).
 */
import type { Clock } from '../../util/clock.js';
import type { AuthStore, TokenRevocation } from '../auth-store.js';

interface StoredRevocation {
  revocation: TokenRevocation;
  retainUntil: number;
}

/** `keyName` and a nonce or target in one map key; key names never contain a newline. */
function entryKey(keyName: string, item: string): string {
  return `${keyName}\n${item}`;
}

export class MemoryAuthStore implements AuthStore {
  private readonly nonces = new Map<string, number>();
  private readonly revoked = new Map<string, StoredRevocation>();

  constructor(
    private readonly clock: Clock,
    /** Tells the node of a revocation (as every node of a shared engine is told). */
    private readonly announce: (revocation: TokenRevocation) => void,
  ) {}

  claimNonce(keyName: string, nonce: string, expiresAt: number): Promise<boolean> {
    const key = entryKey(keyName, nonce);
    const until = this.nonces.get(key);
    if (until !== undefined && until > this.clock.now()) return Promise.resolve(false);
    this.nonces.set(key, expiresAt);
    return Promise.resolve(true);
  }

  revoke(revocations: readonly TokenRevocation[], retainUntil: number): Promise<void> {
    for (const revocation of revocations) {
      this.revoked.set(entryKey(revocation.keyName, revocation.target), { revocation: { ...revocation }, retainUntil });
    }
    // Announced after the call returns, as a shared engine's pub/sub would.
    queueMicrotask(() => {
      for (const revocation of revocations) this.announce({ ...revocation });
    });
    return Promise.resolve();
  }

  revocations(keyName: string, targets: readonly string[]): Promise<TokenRevocation[]> {
    const now = this.clock.now();
    const found: TokenRevocation[] = [];
    for (const target of targets) {
      const stored = this.revoked.get(entryKey(keyName, target));
      if (stored && stored.retainUntil > now) found.push({ ...stored.revocation });
    }
    return Promise.resolve(found);
  }

  /** Forgets nonces and revocations past their time. */
  sweep(now: number): void {
    for (const [key, until] of this.nonces) if (until <= now) this.nonces.delete(key);
    for (const [key, stored] of this.revoked) if (stored.retainUntil <= now) this.revoked.delete(key);
  }
}
