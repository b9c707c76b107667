import type { ParseJson } from '../util/unknown.js';

/** The recovery key (RTN16g): enough to continue a connection and its channels in another page. */
export interface RecoveryKey {
  connectionKey: string;
  msgSerial: number;
  channelSerials: Record<string, string>;
}

/** Parses a recovery key; an unreadable one is ignored (a clean connection follows, RTN16f). */
export function parseRecoveryKey(text: string): RecoveryKey | undefined {
  try {
    const v = (JSON.parse as ParseJson)(text) as Partial<RecoveryKey>;
    if (typeof v.connectionKey !== 'string' || typeof v.msgSerial !== 'number') return undefined;
    return { connectionKey: v.connectionKey, msgSerial: v.msgSerial, channelSerials: v.channelSerials ?? {} };
  } catch {
    return undefined;
  }
}
