/**
 * The one registry of Ably error codes the server uses, and the one error type that carries them.
 * Codes and titles follow ably-common `protocol/errors.json`; HTTP statuses follow the per-code docs
 * where they exist, otherwise the 4xx/5xx family of the code.
 */
import type { ErrorInfo } from './types.js';

export interface ErrorDef {
  readonly code: number;
  readonly statusCode: number;
  readonly message: string;
}

function def(code: number, statusCode: number, message: string): ErrorDef {
  return Object.freeze({ code, statusCode, message });
}

export const Err = {
  // 400
  badRequest: def(40000, 400, 'Bad request'),
  unsupportedMediaType: def(40000, 415, 'Unsupported media type'),
  invalidRequestBody: def(40001, 400, 'Invalid request body'),
  invalidParameterName: def(40002, 400, 'Invalid parameter name'),
  invalidParameterValue: def(40003, 400, 'Invalid parameter value'),
  invalidHeader: def(40004, 400, 'Invalid header'),
  invalidCredential: def(40005, 400, 'Invalid credential'),
  invalidConnectionIdInMessage: def(40006, 400, 'Invalid connection id'),
  invalidMessageId: def(40007, 400, 'Invalid message id'),
  invalidContentLength: def(40008, 400, 'Invalid content length'),
  maxMessageSizeExceeded: def(40009, 400, 'Maximum message length exceeded'),
  requestTooLarge: def(40009, 413, 'Request body too large'),
  invalidChannelName: def(40010, 400, 'Invalid channel name'),
  invalidClientId: def(40012, 400, 'Invalid clientId'),
  invalidDataOrEncoding: def(40013, 400, 'Invalid message data or encoding'),
  unsupportedProtocolVersion: def(40017, 400, 'Unsupported protocol version'),
  batchError: def(40020, 400, 'Batch error'),
  invalidPublishRequest: def(40030, 400, 'Invalid publish request'),
  invalidExtras: def(40032, 400, 'Invalid publish request (impermissible extras field)'),
  // 401
  unauthorized: def(40100, 401, 'Unauthorized'),
  invalidCredentials: def(40101, 401, 'Invalid credentials'),
  incompatibleCredentials: def(40102, 401, 'Incompatible credentials'),
  connectionLimit: def(40111, 403, 'Account restricted (connection limits exceeded)'),
  channelLimit: def(40114, 403, 'Account restricted (channel limits exceeded)'),
  basicAuthOverNonTls: def(40103, 401, 'Invalid use of Basic auth over non-TLS transport'),
  timestampNotCurrent: def(40104, 401, 'Timestamp not current'),
  nonceReplayed: def(40105, 401, 'Nonce value replayed'),
  revocationNotEnabled: def(40121, 400, 'Token revocation not enabled'),
  keyError: def(40130, 401, 'Key error'),
  keyRevoked: def(40131, 401, 'Key revoked'),
  tokenError: def(40140, 401, 'Token error'),
  tokenRevoked: def(40141, 401, 'Token revoked'),
  tokenExpired: def(40142, 401, 'Token expired'),
  tokenUnrecognised: def(40143, 401, 'Token unrecognised'),
  invalidJwt: def(40144, 401, 'Invalid JWT format'),
  invalidTokenFormat: def(40145, 401, 'Invalid token format'),
  noTokenRenewal: def(40171, 403, 'No means provided to renew auth token'),
  capabilityDenied: def(40160, 401, 'Operation not permitted with provided capability'),
  identifiedClientRequired: def(40161, 401, 'Operation not permitted as it requires an identified client'),
  basicAuthRequired: def(40162, 401, 'Operation requires basic auth'),
  revocationNotEnabledForKey: def(40164, 401, 'Token revocation not enabled for API key'),
  channelModeNotRequested: def(40165, 401, 'Channel mode not requested when attaching'),
  unidentifiedOwnMessages: def(40166, 401, 'Unidentified client cannot modify own messages'),
  // 403
  forbidden: def(40300, 403, 'Forbidden'),
  tlsRequired: def(40311, 403, 'Operation requires TLS connection'),
  // 404, 405, 429
  notFound: def(40400, 404, 'Not found'),
  methodNotAllowed: def(40500, 405, 'Method not allowed'),
  rateLimited: def(42910, 429, 'Rate limit exceeded; request rejected'),
  // 500
  internal: def(50000, 500, 'Internal error'),
  internalChannel: def(50001, 500, 'Internal channel error'),
  internalConnection: def(50002, 500, 'Internal connection error'),
  timeout: def(50003, 504, 'Timeout error'),
  overloaded: def(50004, 503, 'Request failed due to overloaded instance'),
  // connection
  connectionFailed: def(80000, 400, 'Connection failed'),
  connectionSuspended: def(80002, 400, 'Connection suspended'),
  disconnected: def(80003, 400, 'Disconnected'),
  continuityLostExpired: def(80006, 400, 'Unable to recover connection (messages expired)'),
  continuityLostLimit: def(80007, 400, 'Unable to recover connection (message limit exceeded)'),
  connectionExpired: def(80008, 400, 'Unable to recover connection (connection expired)'),
  incompatibleRecoverAuth: def(80011, 400, 'Unable to recover connection (incompatible auth params)'),
  connectionTimedOut: def(80014, 400, 'Connection timed out'),
  protocolError: def(80013, 400, 'Protocol error'),
  superseded: def(80016, 400, 'Operation on superseded connection'),
  connectionClosed: def(80017, 400, 'Connection closed'),
  invalidConnectionKey: def(80018, 400, 'Invalid connection key (invalid format)'),
  authCallbackFailed: def(80019, 401, 'Client configured authentication provider request failed'),
  connectionNotFound: def(80022, 400, 'Connection not found'),
  // channel
  channelOperationFailed: def(90000, 400, 'Channel operation failed'),
  channelInvalidState: def(90001, 400, 'Channel operation failed (invalid channel state)'),
  channelMessagesExpired: def(90003, 400, 'Unable to recover channel (messages expired)'),
  channelOperationTimeout: def(90007, 408, 'Channel operation timed out'),
  channelNoMatchingEpoch: def(90005, 400, 'Unable to recover channel (no matching epoch)'),
  tooManyChannels: def(90010, 400, 'Maximum number of channels per connection exceeded'),
  presenceNoClientId: def(91000, 400, 'Unable to enter presence channel (no clientId)'),
  presenceNotEntered: def(91002, 400, 'Unable to leave presence channel that is not entered'),
  presenceMemberLimit: def(91003, 400, 'Unable to enter presence channel (maximum member limit exceeded)'),
  presenceReenterFailed: def(91004, 400, 'Unable to automatically re-enter presence channel'),
  presenceMemberLeft: def(91100, 400, 'Member implicitly left presence channel (connection closed)'),
  mutableMessagesDisabled: def(
    93002,
    400,
    'Message annotations, updates, appends and deletes are not enabled on this channel',
  ),
} as const satisfies Record<string, ErrorDef>;

export type ErrorName = keyof typeof Err;

/** Where ably-js and the Ably docs explain a code. */
export function errorHref(code: number): string {
  return `https://help.ably.io/error/${code}`;
}

/** An ErrorInfo for `def`, optionally with a more specific message. */
export function errorInfo(def: ErrorDef, message?: string): ErrorInfo {
  return { message: message ?? def.message, code: def.code, statusCode: def.statusCode, href: errorHref(def.code) };
}

/** The one error type of encke: an Error that carries an Ably ErrorInfo. */
export class AblyError extends Error {
  readonly code: number;
  readonly statusCode: number;

  constructor(def: ErrorDef, message?: string, options?: { cause?: unknown }) {
    super(message ?? def.message, options);
    this.name = 'AblyError';
    this.code = def.code;
    this.statusCode = def.statusCode;
  }

  toErrorInfo(): ErrorInfo {
    return { message: this.message, code: this.code, statusCode: this.statusCode, href: errorHref(this.code) };
  }

  /** Any thrown value as an AblyError; anything not already one is an internal error. */
  static from(err: unknown): AblyError {
    if (err instanceof AblyError) return err;
    return new AblyError(Err.internal, undefined, { cause: err });
  }
}

/** Token errors (40140–40149) make ably-js renew its token and retry rather than fail (RTN14b, RSA4a). */
export function isTokenError(code: number): boolean {
  return code >= 40140 && code < 40150;
}
