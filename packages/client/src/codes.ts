/**
 * The error codes this client raises: a subset of the protocol registry
 * (packages/protocol/src/errors.ts), restated here so that a page does not download the server's
 * whole table. test/src/client/codes.test.ts checks every entry against the registry.
 */
export interface CodeDef {
  readonly code: number;
  readonly statusCode: number;
  /** The default message; left out where every use gives its own (the registry has the title). */
  readonly message?: string;
}

const d = (code: number, statusCode: number, message?: string): CodeDef =>
  message === undefined ? { code, statusCode } : { code, statusCode, message };

export const Err = {
  badRequest: d(40000, 400, 'Bad request'),
  unauthorized: d(40100, 401, 'Unauthorized'),
  invalidCredentials: d(40101, 401, 'Invalid credentials'),
  noTokenRenewal: d(40171, 403, 'No means provided to renew auth token'),
  rateLimited: d(42910, 429),
  internal: d(50000, 500, 'Internal error'),
  internalChannel: d(50001, 500, 'Internal channel error'),
  timeout: d(50003, 504),
  connectionFailed: d(80000, 400, 'Connection failed'),
  connectionSuspended: d(80002, 400, 'Connection suspended'),
  disconnected: d(80003, 400, 'Disconnected'),
  protocolError: d(80013, 400),
  connectionTimedOut: d(80014, 400),
  connectionClosed: d(80017, 400, 'Connection closed'),
  authCallbackFailed: d(80019, 401),
  channelOperationFailed: d(90000, 400, 'Channel operation failed'),
  channelInvalidState: d(90001, 400, 'Channel operation failed (invalid channel state)'),
  channelOperationTimeout: d(90007, 408),
  presenceNoClientId: d(91000, 400),
  presenceReenterFailed: d(91004, 400),
} as const;

/** Token errors (40140–40149) are answered by renewing the token, not by failing (RTN14b, RTN15h). */
export function isTokenError(code: number): boolean {
  return code >= 40140 && code < 40150;
}
