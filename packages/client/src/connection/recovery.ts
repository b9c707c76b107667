import type { EntriesOf, ParseJson } from '../util/unknown.js';

/** The recovery key (RTN16g): enough to continue a connection and its channels in another page. */
export interface RecoveryKey {
  connectionKey: string;
  msgSerial: number;
  channelSerials: Record<string, string>;
}

/**
 * Parses a recovery key, checked: a connectionKey, a msgSerial and channelSerials (an object of
 * strings, a channel's serial by its name; none is none). An unreadable one is ignored (a clean
 * connection follows, RTN16f).
 */
export function parseRecoveryKey(text: string): RecoveryKey | undefined {
  try {
    const v = (JSON.parse as ParseJson)(text);
    if (!isObject(v) || !('connectionKey' in v) || !('msgSerial' in v)) return undefined;
    const { connectionKey, msgSerial } = v;
    const channelSerials = 'channelSerials' in v ? v.channelSerials : {};
    if (typeof connectionKey == 'string' && typeof msgSerial == 'number' && isSerials(channelSerials))
      return { connectionKey, msgSerial, channelSerials };
  } catch {
    // not JSON: ignored
  }
  return undefined;
}

const isObject = (v: unknown): v is object => typeof v == 'object' && v !== null;

const isSerials = (v: unknown): v is Record<string, string> =>
  isObject(v) && (Object.entries as EntriesOf)(v).every(([, s]) => typeof s == 'string');
