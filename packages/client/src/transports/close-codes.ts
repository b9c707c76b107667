/**
 * WebSocket close codes (RFC 6455 §7.4.1) and what each means for the connection, as the Ably
 * WebSocket transport specification maps them: protocol, data, policy, size, extension, server and
 * TLS failures are final (failed); every other close (1000 unasked, 1001 going away, 1005 no
 * status, 1006 abnormal, 1012–1014, 4xxx) is retried (disconnected, then suspended).
 */
import type { ErrorInfo } from '../errors.js';
import type { Kit } from '../kit.js';

export const CloseCode = {
  NORMAL: 1000,
  PROTOCOL_ERROR: 1002,
  REFUSE: 1003,
  NO_UTF8: 1007,
  POLICY_VIOLATION: 1008,
  TOO_BIG: 1009,
  EXTENSION: 1010,
  UNEXPECTED_CONDITION: 1011,
  TLS_ERROR: 1015,
} as const;

type ErrName = keyof Kit['Err'];

/** The codes that fail the connection, with the error each is reported as. */
const FINAL: Record<number, ErrName> = {
  [CloseCode.PROTOCOL_ERROR]: 'connectionFailed',
  [CloseCode.REFUSE]: 'unauthorized',
  [CloseCode.NO_UTF8]: 'connectionFailed',
  [CloseCode.POLICY_VIOLATION]: 'unauthorized',
  [CloseCode.TOO_BIG]: 'badRequest',
  [CloseCode.EXTENSION]: 'connectionFailed',
  [CloseCode.UNEXPECTED_CONDITION]: 'connectionFailed',
  [CloseCode.TLS_ERROR]: 'connectionFailed',
};

export interface CloseOutcome {
  /** `disconnected`: retry (resume); `failed`: give up. */
  state: 'disconnected' | 'failed';
  error: ErrorInfo;
}

/** What a remote close means. A close we did not ask for is never "clean", even with 1000. */
export function closeOutcome(kit: Kit, code: number, reason: string): CloseOutcome {
  const name = FINAL[code];
  const def = kit.Err[name ?? 'disconnected'];
  const error = kit.ErrorInfo.of(def, `${def.message} (WebSocket close ${code}${reason ? `: ${reason}` : ''})`);
  return { state: name ? 'failed' : 'disconnected', error };
}
