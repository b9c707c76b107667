/** Token shapes of the Ably REST API (TD, TK, TE). */
export interface TokenDetails {
  token: string;
  expires?: number;
  issued?: number;
  capability?: string;
  clientId?: string;
  keyName?: string;
}

export interface TokenParams {
  ttl?: number;
  /** JSON text of the capability, e.g. `'{"chat:*":["publish","subscribe"]}'`. */
  capability?: string;
  clientId?: string;
  timestamp?: number;
  nonce?: string;
}

/** A signed token request: exchanged for a token at `POST /keys/<keyName>/requestToken`. */
export interface TokenRequest {
  keyName: string;
  ttl?: number;
  capability?: string;
  clientId?: string;
  timestamp: number;
  nonce: string;
  mac: string;
}

/** What an authCallback or authUrl may give: a token string, TokenDetails or a TokenRequest. */
export type TokenLike = string | TokenDetails | TokenRequest;

export type AuthCallbackDone = (error: Error | string | null, result?: TokenLike | null) => void;
/** ably-js style (call `done`) or promise style (return the result): either works. */
export type AuthCallback = (params: TokenParams, done: AuthCallbackDone) => void | Promise<TokenLike>;
