/** Token state every node must agree on: redeemed TokenRequest nonces and revocations. */
import { isPlainObject } from '@encke/protocol';

/**
 * A token revocation (`POST /keys/:keyName/revokeTokens`): revocable tokens of `keyName` that match
 * `target` (`clientId:x`, `revocationKey:y`) and were issued before `issuedBefore` are refused from
 * `appliesAt` on.
 */
export interface TokenRevocation {
  keyName: string;
  target: string;
  issuedBefore: number;
  appliesAt: number;
}

/** Whether a value (a revocation read back from a shared store) has a TokenRevocation's fields. */
export function isTokenRevocation(value: unknown): value is TokenRevocation {
  return (
    isPlainObject(value) &&
    typeof value.keyName === 'string' &&
    typeof value.target === 'string' &&
    typeof value.issuedBefore === 'number' &&
    typeof value.appliesAt === 'number'
  );
}

/** The auth half of the engine: what every node must agree on about tokens. */
export interface AuthStore {
  /**
   * Atomically records a TokenRequest nonce of `keyName`, remembered until `expiresAt`. False when it
   * is already recorded and not yet past `expiresAt`: a replay.
   */
  claimNonce(keyName: string, nonce: string, expiresAt: number): Promise<boolean>;
  /**
   * Stores revocations, each kept until `retainUntil` (a later one for the same key and target
   * replaces it), and announces every one to every node (`EngineEvents.onRevocation`).
   */
  revoke(revocations: readonly TokenRevocation[], retainUntil: number): Promise<void>;
  /** The stored revocations of `keyName` whose target is one of `targets`. */
  revocations(keyName: string, targets: readonly string[]): Promise<TokenRevocation[]>;
}
