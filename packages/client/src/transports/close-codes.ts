/**
 * WebSocket close codes (RFC 6455 §7.4.1) and what each means for the connection, as the Ably
 * WebSocket transport specification maps them: going away and abnormal closes are retried
 * (disconnected, then suspended); protocol, data, policy, size, extension, server and TLS failures
 * are final (failed).
 */
import { Err, ErrorInfo } from '../errors.js';

export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  REFUSE: 1003,
  NO_STATUS: 1005,
  ABNORMAL: 1006,
  NO_UTF8: 1007,
  POLICY_VIOLATION: 1008,
  TOO_BIG: 1009,
  EXTENSION: 1010,
  UNEXPECTED_CONDITION: 1011,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  BAD_GATEWAY: 1014,
  TLS_ERROR: 1015,
} as const;

export interface CloseOutcome {
  /** `disconnected`: retry (resume); `failed`: give up. */
  state: 'disconnected' | 'failed';
  error: ErrorInfo;
}

/** What a remote close means. A close we did not ask for is never "clean", even with 1000. */
export function closeOutcome(code: number, reason: string): CloseOutcome {
  const why = (msg: string): string => `${msg} (WebSocket close ${code}${reason ? `: ${reason}` : ''})`;
  switch (code) {
    case CloseCode.PROTOCOL_ERROR:
    case CloseCode.NO_UTF8:
    case CloseCode.EXTENSION:
    case CloseCode.UNEXPECTED_CONDITION:
    case CloseCode.TLS_ERROR:
      return { state: 'failed', error: ErrorInfo.of(Err.connectionFailed, why('Connection failed')) };
    case CloseCode.REFUSE:
    case CloseCode.POLICY_VIOLATION:
      return { state: 'failed', error: ErrorInfo.of(Err.unauthorized, why('Connection refused')) };
    case CloseCode.TOO_BIG:
      return { state: 'failed', error: ErrorInfo.of(Err.badRequest, why('Message too big')) };
    default:
      return { state: 'disconnected', error: ErrorInfo.of(Err.disconnected, why('Connection lost')) };
  }
}
