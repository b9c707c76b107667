/**
 * WebSocket close codes (RFC 6455 §7.4.1) and what each means for the connection, as the Ably
 * WebSocket transport specification maps them: protocol, data, policy, size, extension, server and
 * TLS failures are final (failed); every other close (1000 unasked, 1001 going away, 1005 no
 * status, 1006 abnormal, 1012–1014, 4xxx) is retried (disconnected, then suspended).
 */
import type { ErrorInfo } from '../errors.js';
import type { Kit } from '../kit.js';

// Each a constant of its own, not fields of one object: the bundler writes the numbers where they
// are used in this file and leaves no table behind (~40 B min+gzip of the core budget).
export const NORMAL = 1000;
export const PROTOCOL_ERROR = 1002;
const REFUSE = 1003;
const NO_UTF8 = 1007;
const POLICY_VIOLATION = 1008;
const TOO_BIG = 1009;
const EXTENSION = 1010;
const UNEXPECTED_CONDITION = 1011;
const TLS_ERROR = 1015;

type ErrName = keyof Kit['Err'];

/** The codes that fail the connection, with the error each is reported as. */
const FINAL: Record<number, ErrName> = {
  [PROTOCOL_ERROR]: 'connectionFailed',
  [REFUSE]: 'unauthorized',
  [NO_UTF8]: 'connectionFailed',
  [POLICY_VIOLATION]: 'unauthorized',
  [TOO_BIG]: 'badRequest',
  [EXTENSION]: 'connectionFailed',
  [UNEXPECTED_CONDITION]: 'connectionFailed',
  [TLS_ERROR]: 'connectionFailed',
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
