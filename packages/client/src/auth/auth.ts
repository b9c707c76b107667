/**
 * Credentials for connections and REST requests (RSA): basic auth by key, or tokens from a fixed
 * token, an authCallback, an authUrl, or a TokenRequest signed with the key (`useTokenAuth`).
 * Tokens are renewed when the server says they are invalid (4014x), when it asks (AUTH), and
 * shortly before they expire.
 */
import { Err, ErrorInfo } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import type { HttpContext } from '../util/http.js';
import { toBase64, utf8Encode } from '../util/bytes.js';
import { kit } from '../kit.js';
import type { ObtainContext } from './obtain.js';
import type { TokenDetails, TokenLike, TokenParams } from './types.js';

export class Auth {
  /** The clientId the server confirmed for the connection, else the configured one. */
  clientId: string | undefined;
  tokenDetails: TokenDetails | undefined;
  private pending: Promise<TokenDetails> | undefined;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly http: HttpContext,
    private readonly baseUrl: string,
  ) {
    this.clientId = options.clientId;
    const t = options.token;
    if (t !== undefined) this.tokenDetails = typeof t === 'string' ? { token: t } : t;
  }

  /** Basic auth: a key and no reason to use tokens. */
  get basic(): boolean {
    const o = this.options;
    return !!o.key && !o.useTokenAuth && !o.authCallback && !o.authUrl && o.token === undefined;
  }

  /** Whether a new token can be had when the current one fails (RSA4a2: else 40171). */
  get canRenew(): boolean {
    const o = this.options;
    return !!(o.authCallback || o.authUrl || o.key);
  }

  /** Query params that authenticate a connection request, getting a token first if one is needed. */
  async queryParams(): Promise<Record<string, string>> {
    if (!this.basic) await this.token();
    return this.params();
  }

  /** The credentials as query params, as they are now (comet repeats them on every request). */
  params(): Record<string, string> {
    return this.basic ? { key: this.options.key ?? '' } : { access_token: this.tokenDetails?.token ?? '' };
  }

  /** The Authorization header of a REST request. */
  async header(): Promise<string> {
    const secret = this.basic ? (this.options.key ?? '') : (await this.token()).token;
    return `${this.basic ? 'Basic' : 'Bearer'} ${toBase64(utf8Encode(secret))}`;
  }

  /** The current token, or a new one when there is none or it has expired. */
  async token(): Promise<TokenDetails> {
    const t = this.tokenDetails;
    if (t && (t.expires === undefined || t.expires > this.options.clock.now())) return t;
    return this.renew();
  }

  /** A new token, whatever the current one (one request at a time). */
  renew(params?: TokenParams): Promise<TokenDetails> {
    if (!this.canRenew) {
      return Promise.reject(ErrorInfo.of(Err.noTokenRenewal));
    }
    this.pending ??= this.fetchToken({ ...this.options.defaultTokenParams, ...params }).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetchToken(params: TokenParams): Promise<TokenDetails> {
    if (this.options.clientId && params.clientId === undefined) params.clientId = this.options.clientId;
    let result: TokenLike;
    try {
      result = await this.obtain(params);
    } catch (err) {
      const e = ErrorInfo.from(err, Err.authCallbackFailed);
      // RSA4c: a failing auth provider is 80019 (retriable) unless it answered a 403 (fatal, RSA4d).
      throw e.statusCode === 403 ? e : ErrorInfo.of(Err.authCallbackFailed, `Auth provider failed: ${e.message}`, e);
    }
    const details = await this.toDetails(result);
    this.tokenDetails = details;
    return details;
  }

  private obtain(params: TokenParams): Promise<TokenLike> {
    const o = this.options;
    if (!o.authCallback)
      return this.obtainer().then((m) =>
        o.authUrl
          ? m.fromAuthUrl(this.obtainContext(), o.authUrl, params)
          : m.signTokenRequest(this.obtainContext(), params),
      );
    const cb = o.authCallback;
    return new Promise<TokenLike>((resolve, reject) => {
      const done = (error: Error | string | null, value?: TokenLike | null): void => {
        if (error) reject(error instanceof Error ? error : new Error(String(error)));
        else if (value === undefined || value === null) reject(new Error('authCallback gave no token'));
        else resolve(value);
      };
      const maybe = cb(params, done);
      if (maybe && typeof maybe.then === 'function')
        maybe.then(
          (v) => done(null, v),
          (e: unknown) => done(e instanceof Error ? e : String(e)),
        );
    });
  }

  private obtainer(): Promise<typeof import('./obtain.js')> {
    return import('./obtain.js');
  }

  private obtainContext(): ObtainContext {
    return { kit, options: this.options, http: this.http, baseUrl: this.baseUrl };
  }

  private async toDetails(value: TokenLike): Promise<TokenDetails> {
    if (typeof value === 'string') return { token: value };
    if ('mac' in value) return (await this.obtainer()).requestToken(this.obtainContext(), value);
    if (typeof value.token !== 'string') throw ErrorInfo.of(Err.authCallbackFailed, 'Auth provider gave no token');
    return value;
  }
}
