/**
 * The client's one error type: an Error carrying an Ably ErrorInfo (code, statusCode, message),
 * as ably-js's ErrorInfo does. Codes come from ./codes.ts (checked against the protocol registry).
 */
import { Err, isTokenError, type CodeDef as ErrorDef } from './codes.js';
import type { ErrorInfo as WireErrorInfo } from '@encke/protocol/types';

export { Err, isTokenError };

export class ErrorInfo extends Error implements WireErrorInfo {
  readonly code: number;
  readonly statusCode: number;
  override cause?: ErrorInfo;

  constructor(message: string, code: number, statusCode: number, cause?: ErrorInfo) {
    super(message);
    this.name = 'ErrorInfo';
    this.code = code;
    this.statusCode = statusCode;
    if (cause) this.cause = cause;
  }

  /** An ErrorInfo for a registry entry, optionally with a more specific message. */
  static of(def: ErrorDef, message?: string, cause?: ErrorInfo): ErrorInfo {
    return new ErrorInfo(message ?? def.message ?? `Error ${def.code}`, def.code, def.statusCode, cause);
  }

  /** A wire ErrorInfo (or anything thrown) as an ErrorInfo; `fallback` supplies what is missing. */
  static from(value: unknown, fallback: ErrorDef = Err.internal): ErrorInfo {
    if (value instanceof ErrorInfo) return value;
    if (value !== null && typeof value === 'object') {
      const v = value as Partial<WireErrorInfo> & { message?: unknown };
      const code = typeof v.code === 'number' ? v.code : fallback.code;
      const status = typeof v.statusCode === 'number' ? v.statusCode : fallback.statusCode;
      const message = typeof v.message === 'string' ? v.message : (fallback.message ?? `Error ${code}`);
      return new ErrorInfo(message, code, status);
    }
    return ErrorInfo.of(fallback, typeof value === 'string' ? value : undefined);
  }
}

/**
 * Whether an error ends the connection for good (RTN14a, RTN15i): client errors in 40000–49999
 * other than token errors (which are renewed) and rate limits; 50000+ and 80000+ are retried.
 */
export function isFatal(err: ErrorInfo): boolean {
  // RSA4d: an auth provider answering 403 is final too.
  if (err.code === Err.authCallbackFailed.code && err.statusCode === 403) return true;
  return (
    err.statusCode >= 400 &&
    err.statusCode < 500 &&
    !isTokenError(err.code) &&
    err.code !== Err.rateLimited.code &&
    err.code >= 40000 &&
    err.code < 50000
  );
}
